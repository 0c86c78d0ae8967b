package httpapi

import (
	"encoding/json"
	"go/types"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// openAPIServer returns a test server with every route, the demo's too.
func openAPIServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(fullConfig()) // every route
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

// servedDoc fetches the OpenAPI document the server serves.
func servedDoc(t *testing.T, hs *httptest.Server) ([]byte, *apiDoc) {
	t.Helper()
	resp, err := http.Get(hs.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json = %d, %v", resp.StatusCode, err)
	}
	d := &apiDoc{}
	if err := json.Unmarshal(data, &d.root); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	return data, d
}

// apiDoc is the OpenAPI document, decoded as plain JSON values.
type apiDoc struct{ root map[string]any }

// get walks the document from node along keys; a $ref on the way is
// followed. A missing key gives nil.
func (d *apiDoc) get(node any, keys ...string) any {
	for _, k := range keys {
		node = d.deref(node)
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[k]
	}
	return d.deref(node)
}

// deref follows a local $ref ("#/components/...").
func (d *apiDoc) deref(node any) any {
	for range 10 {
		m, ok := node.(map[string]any)
		if !ok {
			return node
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return node
		}
		node = any(d.root)
		for _, k := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			next, _ := node.(map[string]any)
			node = next[strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~")]
		}
	}
	return node
}

// ginParam matches gin's path parameters, :name and *name.
var ginParam = regexp.MustCompile(`[:*](\w+)`)

// openAPIPath is a gin path in OpenAPI's syntax: /models/{lab}/{model}.
func openAPIPath(ginPath string) string { return ginParam.ReplaceAllString(ginPath, "{$1}") }

// operations returns the document's operations for a route: the one of
// its method, or for "ANY" every one on its path.
func (d *apiDoc) operations(method, path string) map[string]map[string]any {
	item, _ := d.get(d.root, "paths", openAPIPath(path)).(map[string]any)
	out := map[string]map[string]any{}
	for m, op := range item {
		op, ok := d.deref(op).(map[string]any)
		if ok && (strings.EqualFold(m, method) || method == "ANY" && slices.Contains(httpMethods, m)) {
			out[strings.ToUpper(m)] = op
		}
	}
	return out
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// parameters returns the names of an operation's parameters in where
// ("query" or "path"), its path item's included.
func (d *apiDoc) parameters(path string, op map[string]any, where string) map[string]bool {
	out := map[string]bool{}
	lists := []any{d.get(d.root, "paths", openAPIPath(path), "parameters"), op["parameters"]}
	for _, list := range lists {
		ps, _ := list.([]any)
		for _, p := range ps {
			p, _ := d.deref(p).(map[string]any)
			if name, _ := p["name"].(string); p["in"] == where {
				out[name] = true
			}
		}
	}
	return out
}

// errorResponse names the shared response of an error status in
// #/components/responses: BadRequest, NotFound, ...
func errorResponse(status int) string { return strings.ReplaceAll(http.StatusText(status), " ", "") }

// errorStatuses maps every error status the server answers to its codes.
func errorStatuses() map[int][]string {
	out := map[int][]string{http.StatusRequestEntityTooLarge: {"limit"}} // a body over the limit (writeError)
	for code, status := range statusOf {
		out[status] = append(out[status], code)
	}
	for _, codes := range out {
		slices.Sort(codes)
	}
	return out
}

// mediaType is a content type without its parameters.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

func statusKey(status int) string { return strconv.Itoa(status) }

// uncheckedWrites are answers whose status or body the source cannot
// pin down, with the reason; the document's description of them is
// checked by hand. The test fails when one is no longer needed.
var uncheckedWrites = map[string]string{
	"GET /readyz":           "status and body vary with the store's state",
	"GET /api/v1/log/proof": "an inclusion or a consistency proof, by the query",
}

// handledCodes are error codes a handler's source names but handles
// itself, never answering them, with the reason.
var handledCodes = map[string][]string{
	"GET /": {"unauthorized"}, // handleIndex gives a bad token's bearer a new identity
}

// TestOpenAPIDescribesTheCode checks the served OpenAPI document against
// the handlers' source (openapi_source_test.go): every route of the table
// with its operationId, roles, path and query parameters (exactly those
// the handler reads), request and response bodies against the Go types
// encoded and decoded (field names, types, required), and the error
// responses of every code the handler can answer.
func TestOpenAPIDescribesTheCode(t *testing.T) {
	s, hs := openAPIServer(t)
	_, d := servedDoc(t, hs)
	src := loadSource(t)
	facts := src.routes(t)
	for _, p := range src.problems {
		t.Errorf("%s (read query parameters by constant names, so that the OpenAPI test sees them)", p)
	}
	access := map[string]Role{}
	for _, rt := range s.Routes() {
		access[rt.Method+" "+rt.Path] = rt.Access
	}
	ids := map[string]string{}
	for _, rf := range facts {
		key := rf.method + " " + rf.path
		a, ok := access[key]
		if !ok {
			t.Errorf("route %s of Routes' source is not served", key)
			continue
		}
		delete(access, key)
		ops := d.operations(rf.method, rf.path)
		if len(ops) == 0 {
			t.Errorf("route %s is not in the OpenAPI document (paths[%q])", key, openAPIPath(rf.path))
		}
		for m, op := range ops {
			ck := &opCheck{t: t, d: d, src: src, rf: rf, access: a, op: op, at: m + " " + openAPIPath(rf.path)}
			ck.check(ids)
		}
	}
	for key := range access {
		t.Errorf("route %s is served but not found in Routes' source", key)
	}
	checkNoExtraOperations(t, d, facts)
	checkErrorComponents(t, d, src.pkg.Scope().Lookup("errorBody").Type())
}

// checkNoExtraOperations checks that the document describes no operation
// that is not a route.
func checkNoExtraOperations(t *testing.T, d *apiDoc, facts []routeFacts) {
	described := map[string]bool{}
	for _, rf := range facts {
		for m := range d.operations(rf.method, rf.path) {
			described[m+" "+openAPIPath(rf.path)] = true
		}
	}
	paths, _ := d.root["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for m := range item {
			if slices.Contains(httpMethods, m) && !described[strings.ToUpper(m)+" "+path] {
				t.Errorf("the OpenAPI document describes %s %s, which is no route", strings.ToUpper(m), path)
			}
		}
	}
}

// opCheck checks one operation of the document against its route.
type opCheck struct {
	t      *testing.T
	d      *apiDoc
	src    *source
	rf     routeFacts
	access Role
	op     map[string]any
	at     string
}

func (ck *opCheck) errorf(format string, args ...any) {
	ck.t.Helper()
	ck.t.Errorf(ck.at+": "+format, args...)
}

func (ck *opCheck) check(ids map[string]string) {
	id, _ := ck.op["operationId"].(string)
	switch {
	case id == "":
		ck.errorf("no operationId")
	case ids[id] != "":
		ck.errorf("operationId %q is %s's too", id, ids[id])
	}
	ids[id] = ck.at
	if _, ok := ck.op["security"].([]any); !ok {
		ck.errorf("no security: [] for a route open to anyone, else the token schemes it takes")
	}
	var roles []string
	rs, _ := ck.op["x-agora-roles"].([]any)
	for _, r := range rs {
		r, _ := r.(string)
		roles = append(roles, r)
	}
	if want := ck.access.Names(); !slices.Equal(roles, want) {
		ck.errorf("x-agora-roles = %v, want %v (the route table's)", roles, want)
	}
	ck.params()
	ck.bodies()
	ck.writes()
	ck.errors()
}

// params checks the path and query parameters.
func (ck *opCheck) params() {
	want := map[string]bool{}
	for _, m := range ginParam.FindAllStringSubmatch(ck.rf.path, -1) {
		want[m[1]] = true
	}
	if got := ck.d.parameters(ck.rf.path, ck.op, "path"); !sameKeys(got, want) {
		ck.errorf("path parameters %v, want %v", keys(got), keys(want))
	}
	got := ck.d.parameters(ck.rf.path, ck.op, "query")
	for name, fn := range ck.rf.queries {
		if !got[name] {
			ck.errorf("query parameter %q, which %s reads, is not documented", name, fn)
		}
	}
	for name := range got {
		if _, ok := ck.rf.queries[name]; !ok {
			ck.errorf("documents query parameter %q, which the handler does not read", name)
		}
	}
}

// bodies checks the JSON request body against the types decoded.
func (ck *opCheck) bodies() {
	schema := ck.d.get(ck.op, "requestBody", "content", "application/json", "schema")
	if len(ck.rf.bodies) > 0 && schema == nil {
		ck.errorf("the handler decodes a JSON body; document it as requestBody application/json")
		return
	}
	for _, typ := range ck.rf.bodies {
		sc := &schemaCheck{d: ck.d, request: true, seen: map[string]bool{}}
		sc.compare("request body", typ, schema)
		for _, e := range sc.errs {
			ck.errorf("%s", e)
		}
	}
}

// writes checks each answer against the response of its status.
func (ck *opCheck) writes() {
	key := ck.rf.method + " " + ck.rf.path
	_, unchecked := uncheckedWrites[key]
	var skipped bool
	for _, w := range ck.rf.writes {
		if w.status == 0 || (w.how == "JSON" && isAny(ck.src.info.TypeOf(w.body))) {
			if !unchecked {
				ck.errorf("%s: the answer's status or type is not known from the source; make it a constant and a concrete type", w.at)
			}
			skipped = true
			continue
		}
		resp, ok := ck.d.get(ck.op, "responses", statusKey(w.status)).(map[string]any)
		if !ok {
			ck.errorf("%s answers %d, which is not documented", w.at, w.status)
			continue
		}
		content, _ := ck.d.deref(resp["content"]).(map[string]any)
		switch w.how {
		case "Status":
			if len(content) > 0 && w.status == http.StatusNoContent {
				ck.errorf("%d has no content", w.status)
			}
		case "Data":
			if _, ok := content[mediaType(w.contentType)]; w.contentType != "" && !ok {
				ck.errorf("%s answers %d as %s, which is not documented", w.at, w.status, mediaType(w.contentType))
			}
		case "JSON":
			sc := &schemaCheck{d: ck.d, seen: map[string]bool{}}
			sc.compareExpr(ck.src, statusKey(w.status)+" response", w.body, ck.d.get(content, "application/json", "schema"))
			for _, e := range sc.errs {
				ck.errorf("%s (%s)", e, w.at)
			}
		}
	}
	if unchecked && !skipped {
		ck.errorf("is in uncheckedWrites, but its answers can be checked now: take it out")
	}
}

// errors checks that the operation documents every error status its
// handler can answer, each with the shared response of that status.
func (ck *opCheck) errors() {
	want := map[int]bool{http.StatusInternalServerError: true}
	for code := range ck.rf.codes {
		if !slices.Contains(handledCodes[ck.rf.method+" "+ck.rf.path], code) {
			want[statusOf[code]] = true
		}
	}
	if ck.access&RoleContributor == 0 {
		want[http.StatusUnauthorized], want[http.StatusForbidden] = true, true
	}
	if len(ck.rf.queries) > 0 {
		want[http.StatusBadRequest] = true
	}
	if ck.op["requestBody"] != nil {
		want[http.StatusBadRequest], want[http.StatusRequestEntityTooLarge] = true, true
	}
	responses, _ := ck.op["responses"].(map[string]any)
	for status := range want {
		if responses[statusKey(status)] == nil {
			ck.errorf("error response %d is not documented (add {\"$ref\": \"#/components/responses/%s\"})", status, errorResponse(status))
		}
	}
	for key, r := range responses {
		status, _ := strconv.Atoi(key)
		ref, _ := r.(map[string]any)["$ref"].(string)
		if want := "#/components/responses/" + errorResponse(status); status >= 400 && ref != want {
			ck.errorf("response %d is %q, want {\"$ref\": %q}", status, ref, want)
		} else if status >= 400 && ck.d.deref(r) == nil {
			ck.errorf("response %d: %s is not in the document", status, ref)
		}
	}
}

// checkErrorComponents checks the shared error responses: one for each
// error status, whose codes are exactly that status's, shaped like the
// body writeError sends.
func checkErrorComponents(t *testing.T, d *apiDoc, errorBody types.Type) {
	var all []string
	for status, codes := range errorStatuses() {
		all = append(all, codes...)
		name := errorResponse(status)
		schema := d.get(d.root, "components", "responses", name, "content", "application/json", "schema")
		if schema == nil {
			continue // no operation answers this status (a missing one fails in errors)
		}
		got := enumOf(d.get(flatten(d, schema)["properties"], "error", "properties", "code"))
		if !slices.Equal(got, codes) {
			t.Errorf("components.responses.%s: error.code enum = %v, want %v (statusOf in errors.go)", name, got, codes)
		}
		sc := &schemaCheck{d: d, seen: map[string]bool{}}
		sc.compare(name, errorBody, schema)
		for _, e := range sc.errs {
			t.Errorf("components.responses.%s: %s", name, e)
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if got := enumOf(d.get(d.root, "components", "schemas", "Error", "properties", "error", "properties", "code")); !slices.Equal(got, all) {
		t.Errorf("components.schemas.Error: error.code enum = %v, want %v", got, all)
	}
}

func enumOf(s any) []string {
	m, _ := s.(map[string]any)
	var out []string
	vs, _ := m["enum"].([]any)
	for _, v := range vs {
		v, _ := v.(string)
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func sameKeys(a, b map[string]bool) bool { return slices.Equal(keys(a), keys(b)) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

package httpapi

// What the handlers really do, read from their source with go/types: for
// every route of the table, the query parameters its handler reads, the
// error codes it names, the JSON it decodes and what it writes.
// openapi_test.go compares that with the OpenAPI document.
//
// Why a static reading: a test that calls each handler sees only the code
// paths it happens to take (handleProof reads "to" only after "from"), and
// url.Values is a map, so its reads cannot be recorded at run time. The
// source, type-checked, shows every read. It cannot silently miss one: a
// read whose name is not a string constant (or a parameter fed constants
// by every caller, or the key of a ranged map literal) fails the test, as
// does passing the query to another package or reading RawQuery.

import (
	"encoding/json"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// source is the package arena/httpapi, parsed and type-checked.
type source struct {
	fset  *token.FileSet
	files []*ast.File
	pkg   *types.Package
	info  *types.Info
	decls map[types.Object]*ast.FuncDecl // functions and methods
	vars  map[types.Object]ast.Expr      // package variables' values
	units map[types.Object]ast.Node      // local variables holding a func literal
	keys  map[types.Object]*ast.RangeStmt
	// params are the functions' and func literals' parameters: the
	// function and the parameter's position.
	params map[types.Object]param
	// problems are reads the analysis cannot follow.
	problems []string
}

// loadSource type-checks the package's non-test files against the export
// data of its dependencies, which go list builds (and caches).
func loadSource(t *testing.T) *source {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-json=ImportPath,Export,Dir,GoFiles", ".")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	exports := map[string]string{}
	var self struct {
		ImportPath, Dir string
		GoFiles         []string
	}
	wd, _ := os.Getwd()
	for dec := json.NewDecoder(strings.NewReader(string(out))); ; {
		var p struct {
			ImportPath, Export, Dir string
			GoFiles                 []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		if p.Dir == wd {
			self.ImportPath, self.Dir, self.GoFiles = p.ImportPath, p.Dir, p.GoFiles
		}
	}
	src := &source{fset: token.NewFileSet(), decls: map[types.Object]*ast.FuncDecl{}, vars: map[types.Object]ast.Expr{},
		units: map[types.Object]ast.Node{}, keys: map[types.Object]*ast.RangeStmt{}, params: map[types.Object]param{}}
	for _, name := range self.GoFiles {
		f, err := parser.ParseFile(src.fset, filepath.Join(self.Dir, name), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		src.files = append(src.files, f)
	}
	imp := importer.ForCompiler(src.fset, "gc", func(path string) (io.ReadCloser, error) { return os.Open(exports[path]) })
	src.info = &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{},
		Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	if src.pkg, err = (&types.Config{Importer: imp}).Check(self.ImportPath, src.fset, src.files, src.info); err != nil {
		t.Fatalf("type-check %s: %v", self.ImportPath, err)
	}
	src.index()
	return src
}

// index finds the package's functions, variables, local func literals and
// ranged map literals by their objects.
func (src *source) index() {
	for _, f := range src.files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				src.decls[src.info.Defs[d.Name]] = d
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					if vs, ok := sp.(*ast.ValueSpec); ok {
						for i, n := range vs.Names {
							if i < len(vs.Values) {
								src.vars[src.info.Defs[n]] = vs.Values[i]
							}
						}
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					id, ok := l.(*ast.Ident)
					if lit, isLit := at(n.Rhs, i).(*ast.FuncLit); ok && isLit {
						src.units[src.object(id)] = lit
					}
				}
			case *ast.RangeStmt:
				if id, ok := n.Key.(*ast.Ident); ok {
					src.keys[src.object(id)] = n
				}
			case *ast.FuncDecl:
				src.addParams(n, n.Type)
			case *ast.FuncLit:
				src.addParams(n, n.Type)
			}
			return true
		})
	}
}

// param is a function's parameter.
type param struct {
	unit ast.Node // *ast.FuncDecl or *ast.FuncLit
	i    int
}

func (src *source) addParams(unit ast.Node, ft *ast.FuncType) {
	i := 0
	for _, f := range ft.Params.List {
		for _, n := range f.Names {
			src.params[src.info.Defs[n]] = param{unit, i}
			i++
		}
		if len(f.Names) == 0 {
			i++
		}
	}
}

func at(es []ast.Expr, i int) ast.Expr {
	if i < len(es) {
		return es[i]
	}
	return nil
}

func (src *source) object(id *ast.Ident) types.Object {
	if o := src.info.Defs[id]; o != nil {
		return o
	}
	return src.info.Uses[id]
}

func (src *source) pos(n ast.Node) string {
	p := src.fset.Position(n.Pos())
	return filepath.Base(p.Filename) + ":" + itoa(p.Line)
}

func itoa(n int) string { return constant.MakeInt64(int64(n)).String() }

// method returns the function a call calls when it is a method of a type
// named typeName in package pkgPath ("" for any), or nil.
func (src *source) method(call *ast.CallExpr, pkgPath, typeName string) *types.Func {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	fn, ok := src.info.Uses[sel.Sel].(*types.Func)
	if !ok {
		return nil
	}
	recv := fn.Signature().Recv()
	if recv == nil {
		return nil
	}
	rt := recv.Type()
	if p, ok := rt.(*types.Pointer); ok {
		rt = p.Elem()
	}
	named, ok := rt.(*types.Named)
	if !ok || named.Obj().Name() != typeName || (named.Obj().Pkg() != nil && pkgPath != "" && named.Obj().Pkg().Path() != pkgPath) {
		return nil
	}
	return fn
}

// isQuery reports whether t is url.Values or a map[string][]string.
func isQuery(t types.Type) bool {
	if t == nil {
		return false
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "net/url" && n.Obj().Name() == "Values"
	}
	m, ok := t.(*types.Map)
	if !ok {
		return false
	}
	s, ok := m.Elem().(*types.Slice)
	return ok && types.Identical(m.Key(), types.Typ[types.String]) && types.Identical(s.Elem(), types.Typ[types.String])
}

// ginQueryReads are gin.Context's methods that read one query parameter,
// named by their first argument; ginQueryOther read the query otherwise.
var (
	ginQueryReads = []string{"Query", "DefaultQuery", "GetQuery", "QueryArray", "GetQueryArray", "QueryMap", "GetQueryMap"}
	ginQueryOther = []string{"ShouldBindQuery", "BindQuery", "ShouldBind", "Bind", "PostForm", "GetPostForm", "DefaultPostForm"}
)

// queryReads returns, for the whole package, the expressions that name a
// query parameter being read.
func (src *source) queryReads() []ast.Expr {
	var out []ast.Expr
	for _, f := range src.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				out = append(out, src.callReads(n)...)
			case *ast.IndexExpr:
				if isQuery(src.info.TypeOf(n.X)) {
					out = append(out, n.Index)
				}
			case *ast.SelectorExpr:
				if n.Sel.Name == "RawQuery" || n.Sel.Name == "Form" {
					if x, ok := n.X.(*ast.SelectorExpr); ok && x.Sel.Name == "URL" || n.Sel.Name == "Form" {
						src.problems = append(src.problems, src.pos(n)+": reads the query as "+n.Sel.Name)
					}
				}
			}
			return true
		})
	}
	return out
}

func (src *source) callReads(call *ast.CallExpr) []ast.Expr {
	if fn := src.method(call, "github.com/gin-gonic/gin", "Context"); fn != nil {
		switch {
		case slices.Contains(ginQueryReads, fn.Name()):
			return call.Args[:1]
		case slices.Contains(ginQueryOther, fn.Name()):
			src.problems = append(src.problems, src.pos(call)+": reads the query with gin's "+fn.Name())
		}
		return nil
	}
	if fn := src.method(call, "net/url", "Values"); fn != nil && (fn.Name() == "Get" || fn.Name() == "Has") {
		return call.Args[:1]
	}
	if fn := src.method(call, "net/http", "Request"); fn != nil && strings.Contains(fn.Name(), "Form") {
		src.problems = append(src.problems, src.pos(call)+": reads the query with "+fn.Name())
		return nil
	}
	// The query handed to another package is read where we cannot see.
	if id := calleeIdent(call); id != nil {
		if obj := src.info.Uses[id]; obj != nil && src.decls[obj] == nil && src.units[obj] == nil {
			for _, a := range call.Args {
				if isQuery(src.info.TypeOf(a)) {
					src.problems = append(src.problems, src.pos(call)+": passes the query to "+id.Name)
				}
			}
		}
	}
	return nil
}

func calleeIdent(call *ast.CallExpr) *ast.Ident {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f
	case *ast.SelectorExpr:
		return f.Sel
	}
	return nil
}

// named is a query parameter's name as the function that gives it.
type named struct {
	name string
	in   *ast.FuncDecl // where the constant is
}

// names resolves an expression naming a query parameter to the constants
// it can be: a constant; a parameter of a function (then every caller's
// argument); the key of a range over a map literal.
func (src *source) names(e ast.Expr, seen map[ast.Node]bool) []named {
	if tv, ok := src.info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
		return []named{{constant.StringVal(tv.Value), src.enclosing(e)}}
	}
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		src.problems = append(src.problems, src.pos(e)+": a query parameter named by an expression")
		return nil
	}
	obj := src.info.Uses[id]
	if rs, ok := src.keys[obj]; ok {
		lit, ok := ast.Unparen(rs.X).(*ast.CompositeLit)
		if !ok {
			src.problems = append(src.problems, src.pos(e)+": a query parameter named by a range over something other than a literal")
			return nil
		}
		var out []named
		for _, el := range lit.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				out = append(out, src.names(kv.Key, seen)...)
			}
		}
		return out
	}
	unit, i := src.paramOf(obj)
	if unit == nil {
		src.problems = append(src.problems, src.pos(e)+": a query parameter named by variable "+id.Name)
		return nil
	}
	if seen[unit] {
		return nil
	}
	seen[unit] = true
	var out []named
	for _, call := range src.callsOf(unit) {
		out = append(out, src.names(call.Args[i], seen)...)
	}
	return out
}

// paramOf returns the function whose parameter obj is, and its position.
func (src *source) paramOf(obj types.Object) (ast.Node, int) {
	p, ok := src.params[obj]
	if !ok {
		return nil, 0
	}
	return p.unit, p.i
}

// callsOf returns every call of a function or of a func literal held in a
// variable. A function whose parameter names a query parameter but that
// has no caller to read it from is a problem.
func (src *source) callsOf(unit ast.Node) []*ast.CallExpr {
	var target types.Object
	switch u := unit.(type) {
	case *ast.FuncDecl:
		target = src.info.Defs[u.Name]
	case *ast.FuncLit:
		for obj, lit := range src.units {
			if lit == u {
				target = obj
			}
		}
	}
	var out []*ast.CallExpr
	for _, f := range src.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if id := calleeIdent(call); id != nil && target != nil && src.info.Uses[id] == target {
					out = append(out, call)
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		src.problems = append(src.problems, src.pos(unit)+": a function naming a query parameter by its parameter, with no caller in the package")
	}
	return out
}

// enclosing returns the function declaration that holds n.
func (src *source) enclosing(n ast.Node) *ast.FuncDecl {
	for _, d := range src.decls {
		if d.Pos() <= n.Pos() && n.End() <= d.End() {
			return d
		}
	}
	return nil
}

// adapters serve every route (they wrap the handler and write its
// errors), so what they name is no one route's.
var adapters = []string{"wrap", "streamingRoute"}

// reach returns the package's functions that n names, and those they
// name, transitively; and the package variables they use.
func (src *source) reach(n ast.Node) map[ast.Node]bool {
	out := map[ast.Node]bool{}
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			obj := src.info.Uses[id]
			if d := src.decls[obj]; d != nil && !out[d] && !slices.Contains(adapters, d.Name.Name) {
				out[d] = true
				walk(d)
			}
			if v := src.vars[obj]; v != nil && !out[v] {
				out[v] = true
				walk(v)
			}
			return true
		})
	}
	walk(n)
	return out
}

// routeFacts is what a route's handler does, as its source says.
type routeFacts struct {
	method, path string            // as in the route table
	queries      map[string]string // query parameters read, and where
	codes        map[string]bool   // error codes named
	writes       []write           // what it answers
	bodies       []types.Type      // the types decodeJSON decodes into
}

// write is a call that answers: c.JSON, c.Data or c.Status.
type write struct {
	at          string
	how         string // "JSON", "Data" or "Status"
	status      int    // 0 when not a constant
	body        ast.Expr
	contentType string // of Data, when a constant
}

// routes reads every route of the table in routes.go (Routes and the
// group functions it concatenates), and what its handler does.
func (src *source) routes(t *testing.T) []routeFacts {
	t.Helper()
	reads := map[*ast.FuncDecl][]named{}
	for _, e := range src.queryReads() {
		for _, n := range src.names(e, map[ast.Node]bool{}) {
			reads[n.in] = append(reads[n.in], n)
		}
	}
	var out []routeFacts
	for _, d := range src.decls {
		if filepath.Base(src.fset.Position(d.Pos()).Filename) != "routes.go" {
			continue
		}
		ast.Inspect(d, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || types.TypeString(src.info.TypeOf(lit), nil) != "github.com/agora-rlhf/agora/arena/httpapi.Route" {
				return true
			}
			if len(lit.Elts) != 4 {
				t.Fatalf("%s: write the route as {method, path, access, handler}", src.pos(lit))
			}
			rf := routeFacts{method: src.str(t, lit.Elts[0]), path: src.str(t, lit.Elts[1]), queries: map[string]string{}, codes: map[string]bool{}}
			src.facts(&rf, src.reach(lit.Elts[3]), reads)
			out = append(out, rf)
			return false
		})
	}
	return out
}

func (src *source) str(t *testing.T, e ast.Expr) string {
	tv := src.info.Types[e]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		t.Fatalf("%s: not a string constant", src.pos(e))
	}
	return constant.StringVal(tv.Value)
}

// facts fills rf from the functions the route's handler reaches.
func (src *source) facts(rf *routeFacts, reached map[ast.Node]bool, reads map[*ast.FuncDecl][]named) {
	for n := range reached {
		if d, ok := n.(*ast.FuncDecl); ok {
			for _, r := range reads[d] {
				rf.queries[r.name] = d.Name.Name
			}
		}
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if c, ok := src.info.Uses[n].(*types.Const); ok && c.Pkg() != nil && c.Pkg().Path() == "github.com/agora-rlhf/agora/rlhf" {
					if _, isCode := statusOf[constant.StringVal(c.Val())]; c.Val().Kind() == constant.String && isCode {
						rf.codes[constant.StringVal(c.Val())] = true
					}
				}
			case *ast.CallExpr:
				src.callFacts(rf, n)
			}
			return true
		})
	}
}

func (src *source) callFacts(rf *routeFacts, call *ast.CallExpr) {
	if id := calleeIdent(call); id != nil && id.Name == "decodeJSON" && src.decls[src.info.Uses[id]] != nil {
		typ := src.info.TypeOf(call.Args[1])
		if p, ok := typ.(*types.Pointer); ok {
			typ = p.Elem()
		}
		rf.bodies = append(rf.bodies, typ)
		return
	}
	fn := src.method(call, "github.com/gin-gonic/gin", "Context")
	if fn == nil {
		return
	}
	w := write{at: src.pos(call), how: fn.Name()}
	switch fn.Name() {
	case "JSON", "AbortWithStatusJSON":
		w.how, w.body = "JSON", call.Args[1]
	case "Data":
		if tv := src.info.Types[call.Args[1]]; tv.Value != nil {
			w.contentType = constant.StringVal(tv.Value)
		}
	case "Status":
	default:
		return
	}
	if tv := src.info.Types[call.Args[0]]; tv.Value != nil {
		v, _ := constant.Int64Val(tv.Value)
		w.status = int(v)
	}
	rf.writes = append(rf.writes, w)
}

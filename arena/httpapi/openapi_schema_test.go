package httpapi

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/types"
	"reflect"
	"slices"
	"strings"
)

// schemaCheck compares a Go type, as encoding/json writes or reads it,
// with the schema that documents it: property names both ways, JSON types,
// array items and map values, and for responses the required fields (every
// field without omitempty is always sent). Request schemas must refuse
// unknown fields (additionalProperties: false), as decodeJSON does; which
// fields a request needs is the handler's to say, so required is not
// compared there.
type schemaCheck struct {
	d       *apiDoc
	request bool
	seen    map[string]bool // $ref and Go type pairs compared already
	errs    []string
}

func (sc *schemaCheck) errorf(at, format string, args ...any) {
	sc.errs = append(sc.errs, at+": "+fmt.Sprintf(format, args...))
}

// flatten returns a schema with its $ref followed and its allOf merged.
func flatten(d *apiDoc, s any) map[string]any {
	m, _ := d.deref(s).(map[string]any)
	parts, ok := m["allOf"].([]any)
	if !ok {
		return m
	}
	out, own := map[string]any{}, map[string]any{}
	for k, v := range m {
		if k != "allOf" {
			own[k] = v
		}
	}
	props := map[string]any{}
	var required []any
	for _, part := range append(slices.Clip(parts), own) {
		p := flatten(d, part)
		for k, v := range p {
			switch k {
			case "properties":
				pm, _ := v.(map[string]any)
				for name, ps := range pm {
					props[name] = ps
				}
			case "required":
				r, _ := v.([]any)
				required = append(required, r...)
			default:
				out[k] = v
			}
		}
	}
	out["properties"], out["required"] = props, required
	return out
}

// compareExpr compares the value a handler encodes: a gin.H literal is an
// object of exactly its keys, each always sent.
func (sc *schemaCheck) compareExpr(src *source, at string, e ast.Expr, s any) {
	lit, ok := ast.Unparen(e).(*ast.CompositeLit)
	if !ok || types.TypeString(src.info.TypeOf(lit), nil) != "github.com/gin-gonic/gin.H" {
		sc.compare(at, src.info.TypeOf(e), s)
		return
	}
	var fields []jsonField
	for _, el := range lit.Elts {
		kv := el.(*ast.KeyValueExpr)
		tv := src.info.Types[kv.Key]
		if tv.Value == nil {
			sc.errorf(at, "%s: a gin.H key that is not a constant", src.pos(kv))
			continue
		}
		fields = append(fields, jsonField{name: strings.Trim(tv.Value.ExactString(), `"`), typ: src.info.TypeOf(kv.Value)})
	}
	m := flatten(sc.d, s)
	if m == nil {
		sc.errorf(at, "no schema")
		return
	}
	sc.object(at, "gin.H", fields, m)
}

// compare compares a Go type with its schema.
func (sc *schemaCheck) compare(at string, t types.Type, s any) {
	if ref, ok := s.(map[string]any)["$ref"].(string); ok {
		key := ref + " " + types.TypeString(t, nil)
		if sc.seen[key] {
			return
		}
		sc.seen[key] = true
	}
	m := flatten(sc.d, s)
	if m == nil {
		sc.errorf(at, "no schema for %s; it is %s", types.TypeString(t, nil), skeletonJSON(t, sc.request))
		return
	}
	if sc.special(at, t, m) {
		return
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		sc.want(at, m, basicType(u), t)
	case *types.Pointer:
		sc.compare(at, u.Elem(), s)
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			sc.want(at, m, "string", t)
			return
		}
		if sc.want(at, m, "array", t) {
			sc.compare(at+"[]", u.Elem(), m["items"])
		}
	case *types.Array:
		if sc.want(at, m, "array", t) {
			sc.compare(at+"[]", u.Elem(), m["items"])
		}
	case *types.Map:
		if sc.want(at, m, "object", t) {
			if ap, ok := m["additionalProperties"].(map[string]any); ok {
				sc.compare(at+"{}", u.Elem(), ap)
			} else {
				sc.errorf(at, "a map (%s): give additionalProperties its values' schema", types.TypeString(t, nil))
			}
		}
	case *types.Struct:
		sc.object(at, types.TypeString(t, nil), jsonFields(u, sc.request), m)
	case *types.Interface: // any value: any schema
	default:
		sc.errorf(at, "cannot compare %s", types.TypeString(t, nil))
	}
}

// special handles types that encode themselves: time.Time is an RFC 3339
// string; a TextMarshaler is a string; another json.Marshaler (or
// Unmarshaler, for requests) may be anything, so only a schema is needed.
func (sc *schemaCheck) special(at string, t types.Type, m map[string]any) bool {
	if types.TypeString(t, nil) == "time.Time" {
		if sc.want(at, m, "string", t) && m["format"] != "date-time" {
			sc.errorf(at, "a time: format date-time")
		}
		return true
	}
	method := "MarshalJSON"
	if sc.request {
		method = "UnmarshalJSON"
	}
	if hasMethod(t, method) {
		return true
	}
	if hasMethod(t, strings.Replace(method, "JSON", "Text", 1)) {
		sc.want(at, m, "string", t)
		return true
	}
	return false
}

func hasMethod(t types.Type, name string) bool {
	obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(t), true, nil, name)
	_, ok := obj.(*types.Func)
	return ok
}

// want checks the schema's type.
func (sc *schemaCheck) want(at string, m map[string]any, typ string, t types.Type) bool {
	if got, _ := m["type"].(string); got != typ {
		sc.errorf(at, "type %q, want %q (Go %s)", got, typ, types.TypeString(t, nil))
		return false
	}
	return true
}

func basicType(b *types.Basic) string {
	switch {
	case b.Info()&types.IsBoolean != 0:
		return "boolean"
	case b.Info()&types.IsInteger != 0:
		return "integer"
	case b.Info()&types.IsFloat != 0:
		return "number"
	case b.Info()&types.IsString != 0:
		return "string"
	}
	return b.String()
}

// object compares a struct's (or gin.H's) fields with an object schema.
func (sc *schemaCheck) object(at, goType string, fields []jsonField, m map[string]any) {
	if got, _ := m["type"].(string); got != "object" {
		sc.errorf(at, "type %q, want \"object\" (Go %s)", got, goType)
	}
	props, _ := m["properties"].(map[string]any)
	var required []string
	for _, f := range fields {
		p, ok := props[f.name]
		if !ok {
			sc.errorf(at, "property %q (of Go %s) is not documented; its schema is %s", f.name, goType, skeletonJSON(f.typ, sc.request))
			continue
		}
		sc.compare(at+"."+f.name, f.typ, p)
		if f.nullable && !sc.request && flatten(sc.d, p)["nullable"] != true {
			sc.errorf(at+"."+f.name, "a pointer without omitempty may be null: nullable: true")
		}
		if !f.omitempty {
			required = append(required, f.name)
		}
	}
	for name := range props {
		if !slices.ContainsFunc(fields, func(f jsonField) bool { return f.name == name }) {
			sc.errorf(at, "documents property %q, which Go %s does not have", name, goType)
		}
	}
	if sc.request {
		if m["additionalProperties"] != false {
			sc.errorf(at, "a request body refuses unknown fields: additionalProperties: false")
		}
		return
	}
	var got []string
	r, _ := m["required"].([]any)
	for _, name := range r {
		name, _ := name.(string)
		got = append(got, name)
	}
	slices.Sort(got)
	slices.Sort(required)
	if !slices.Equal(got, required) {
		sc.errorf(at, "required %v, want %v (the fields of Go %s without omitempty)", got, required, goType)
	}
}

// jsonField is a field as encoding/json sees it.
type jsonField struct {
	name      string
	typ       types.Type
	omitempty bool
	nullable  bool // a struct's pointer field without omitempty: sent as null when nil
}

// jsonFields returns a struct's JSON fields, embedded structs' fields
// promoted unless a shallower field has their name. In a request, fields
// of type serverField are refused by the server, so they are left out.
func jsonFields(st *types.Struct, request bool) []jsonField {
	var out, promoted []jsonField
	for i := range st.NumFields() {
		f := st.Field(i)
		name, opts, _ := strings.Cut(reflect.StructTag(st.Tag(i)).Get("json"), ",")
		if name == "-" && opts == "" || (!f.Exported() && !f.Embedded()) {
			continue
		}
		if request && strings.HasSuffix(types.TypeString(f.Type(), nil), ".serverField") {
			continue
		}
		t := f.Type()
		if p, ok := t.(*types.Pointer); ok && f.Embedded() {
			t = p.Elem()
		}
		if inner, ok := t.Underlying().(*types.Struct); ok && f.Embedded() && name == "" {
			promoted = append(promoted, jsonFields(inner, request)...)
			continue
		}
		if name == "" {
			name = f.Name()
		}
		jf := jsonField{name: name, typ: f.Type(), omitempty: strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")}
		_, isPtr := f.Type().(*types.Pointer)
		jf.nullable = isPtr && !jf.omitempty
		if strings.Contains(opts, "string") {
			jf.typ = types.Typ[types.String]
		}
		out = append(out, jf)
	}
	for _, p := range promoted {
		if !slices.ContainsFunc(out, func(f jsonField) bool { return f.name == p.name }) {
			out = append(out, p)
		}
	}
	return out
}

// isAny reports whether t is an interface: a value of any type.
func isAny(t types.Type) bool {
	_, ok := t.Underlying().(*types.Interface)
	return ok
}

// skeleton returns a schema for t as encoding/json would write it (read
// it, for a request), to paste into the document and describe.
func skeleton(t types.Type, request bool, depth int) map[string]any {
	if depth > 8 {
		return map[string]any{}
	}
	switch {
	case types.TypeString(t, nil) == "time.Time":
		return map[string]any{"type": "string", "format": "date-time"}
	case hasMethod(t, "MarshalJSON"):
		return map[string]any{}
	case hasMethod(t, "MarshalText"):
		return map[string]any{"type": "string"}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return map[string]any{"type": basicType(u)}
	case *types.Pointer:
		return skeleton(u.Elem(), request, depth)
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": skeleton(u.Elem(), request, depth+1)}
	case *types.Array:
		return map[string]any{"type": "array", "items": skeleton(u.Elem(), request, depth+1)}
	case *types.Map:
		return map[string]any{"type": "object", "additionalProperties": skeleton(u.Elem(), request, depth+1)}
	case *types.Struct:
		props := map[string]any{}
		required := []string{}
		for _, f := range jsonFields(u, request) {
			props[f.name] = skeleton(f.typ, request, depth+1)
			if !f.omitempty {
				required = append(required, f.name)
			}
		}
		s := map[string]any{"type": "object", "properties": props}
		if request {
			s["additionalProperties"] = false
		} else if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}

func skeletonJSON(t types.Type, request bool) string {
	b, _ := json.Marshal(skeleton(t, request, 0))
	return string(b)
}

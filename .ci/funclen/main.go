// Command funclen lists the functions longer than a limit (80 lines by
// default) in the Go files below the given folders, skipping tests,
// testdata, node_modules and generated files. It prints file:line name
// length for each, and exits 1 when there is any: CI runs it (.ci/run).
//
//	go run .ci/funclen/main.go [-max 80] [dir ...]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "funclen:", err)
		os.Exit(1)
	}
}

// long is one function over the limit.
type long struct {
	pos   token.Position
	name  string
	lines int
}

func run(args []string, out io.Writer) error {
	flags := flag.NewFlagSet("funclen", flag.ContinueOnError)
	limit := flags.Int("max", 80, "the most lines a function may have, from func to its closing brace")
	if err := flags.Parse(args); err != nil {
		return err
	}
	dirs := flags.Args()
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	var found []long
	for _, dir := range dirs {
		ls, err := scan(dir, *limit)
		if err != nil {
			return err
		}
		found = append(found, ls...)
	}
	for _, l := range found {
		fmt.Fprintf(out, "%s:%d %s %d\n", l.pos.Filename, l.pos.Line, l.name, l.lines)
	}
	if len(found) > 0 {
		return fmt.Errorf("%d functions longer than %d lines: split them into named steps", len(found), *limit)
	}
	return nil
}

// scan walks dir and returns the functions longer than limit.
func scan(dir string, limit int) ([]long, error) {
	var found []long
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDir(path, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) {
			return nil
		}
		found = append(found, longFuncs(fset, f, limit)...)
		return nil
	})
	return found, err
}

// skipDir reports whether the walk leaves out a folder: test data,
// installed JavaScript packages and hidden folders other than the root.
func skipDir(path, name string) bool {
	switch name {
	case "testdata", "node_modules", "vendor":
		return true
	}
	return path != "." && strings.HasPrefix(name, ".") && name != ".ci"
}

// longFuncs returns f's functions and methods longer than limit lines,
// counted from the line of func to the line of the closing brace.
func longFuncs(fset *token.FileSet, f *ast.File, limit int) []long {
	var found []long
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
		if n := end.Line - start.Line + 1; n > limit {
			found = append(found, long{pos: start, name: funcName(fd), lines: n})
		}
	}
	return found
}

// funcName is fd's name, with its receiver's type for a method: (*T).M.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t, star := fd.Recv.List[0].Type, ""
	if p, ok := t.(*ast.StarExpr); ok {
		star, t = "*", p.X
	}
	switch g := t.(type) { // a generic type's parameters
	case *ast.IndexExpr:
		t = g.X
	case *ast.IndexListExpr:
		t = g.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return "(" + star + id.Name + ")." + fd.Name.Name
	}
	return fd.Name.Name
}

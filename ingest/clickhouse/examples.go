package clickhouse

import (
	_ "embed"
	"regexp"
	"strings"
)

//go:embed examples.sql
var examplesSQL string

// ExampleQuery is one of the researchers' example queries in examples.sql.
type ExampleQuery struct {
	Name string
	Doc  string // what it shows
	SQL  string // without the trailing semicolon
}

var agoraDB = regexp.MustCompile(`\bagora\.`)

// ExampleQueries returns the example queries of examples.sql, reading
// database instead of "agora".
func ExampleQueries(database string) []ExampleQuery {
	var out []ExampleQuery
	for _, chunk := range strings.Split(examplesSQL, "-- name: ")[1:] {
		name, rest, _ := strings.Cut(chunk, "\n")
		var doc []string
		lines := strings.Split(rest, "\n")
		for len(lines) > 0 && strings.HasPrefix(lines[0], "--") {
			doc = append(doc, strings.TrimSpace(strings.TrimPrefix(lines[0], "--")))
			lines = lines[1:]
		}
		sql := strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";")
		out = append(out, ExampleQuery{
			Name: strings.TrimSpace(name),
			Doc:  strings.Join(doc, " "),
			SQL:  agoraDB.ReplaceAllString(sql, database+"."),
		})
	}
	return out
}

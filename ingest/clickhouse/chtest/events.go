package chtest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Event returns the server's cumulative count of one of its events
// (system.events, such as "SelectQuery"), read over its HTTP interface so
// that the client under test is not involved. The read is itself a query:
// a SelectQuery count includes it.
func (s *Server) Event(name string) (int64, error) {
	// Event names are identifiers; anything else is refused rather than
	// quoted (ClickHouse 18.16 has no query parameters over HTTP).
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return 0, fmt.Errorf("clickhouse event %q: not an event name", name)
		}
	}
	q := "SELECT value FROM system.events WHERE event = '" + name + "'"
	resp, err := http.Get("http://" + s.HTTPAddr + "/?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("clickhouse event %s: %s: %s", name, resp.Status, body)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return 0, nil // not counted yet
	}
	return strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
}

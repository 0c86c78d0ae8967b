package web

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestRouteTableIsTheEngine checks that the engine serves exactly the
// routes of the table: none is added outside it, so the matrix test over
// the table covers the whole server.
func TestRouteTableIsTheEngine(t *testing.T) {
	id, _ := NewIdentity(bytes.Repeat([]byte("k"), 32))
	s, err := New(Config{Battles: nopBattles{}, Identity: id, Store: nopStore{}, Demo: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, rt := range s.Routes() {
		methods := []string{rt.Method}
		if rt.Method == "ANY" {
			methods = []string{"GET", "POST", "PUT", "PATCH", "HEAD", "OPTIONS", "DELETE", "CONNECT", "TRACE"}
		}
		for _, m := range methods {
			want = append(want, m+" "+rt.Path)
		}
	}
	var got []string
	for _, ri := range s.engine.Routes() {
		got = append(got, ri.Method+" "+ri.Path)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("engine routes:\n%s\nroute table:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

type nopBattles struct{ Battles }

func (nopBattles) MaxTurns() int { return 1 }

type nopStore struct{}

func (nopStore) Ping(context.Context) error { return nil }

package arena

import (
	"regexp"
	"testing"
)

// TestNewID checks that ids are version 7 UUIDs in their text form, each
// different.
func TestNewID(t *testing.T) {
	uuid7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := newID()
		if !uuid7.MatchString(id) || seen[id] {
			t.Fatalf("newID() = %q: not a fresh version 7 UUID", id)
		}
		seen[id] = true
	}
}

package store

import (
	"context"
	"testing"
	"time"
)

// TestSpendPoW: a nonce redeems once, also after the store is reopened;
// once expired it is forgotten.
func TestSpendPoW(t *testing.T) {
	path := t.TempDir() + "/agora.db"
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(time.Hour)
	if fresh, err := s.SpendPoW(ctx, []byte("nonce-1"), soon); err != nil || !fresh {
		t.Fatalf("SpendPoW(nonce-1) = %v, %v; want fresh", fresh, err)
	}
	if fresh, err := s.SpendPoW(ctx, []byte("gone"), time.Now().Add(-time.Minute)); err != nil || !fresh {
		t.Fatalf("SpendPoW(gone) = %v, %v; want fresh", fresh, err)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		nonce string
		fresh bool
	}{{"nonce-1", false}, {"nonce-2", true}, {"gone", true}} {
		if fresh, err := s.SpendPoW(ctx, []byte(tc.nonce), soon); err != nil || fresh != tc.fresh {
			t.Errorf("after reopening, SpendPoW(%s) = %v, %v; want %v", tc.nonce, fresh, err, tc.fresh)
		}
	}
}

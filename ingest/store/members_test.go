package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestMembers creates a member, links contributor ids, stores passkeys and
// identities, and revokes sessions, on a real store.
func TestMembers(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m := rlhf.Member{ID: "m_1", Contributor: "c_1", Name: "Ada", CreatedAt: t0}
	if err := s.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, rlhf.Member{ID: "m_2", Contributor: "c_1", CreatedAt: t0}); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("a second member for c_1: %v, want conflict", err)
	}
	for _, c := range []string{"c_2", "c_2", "c_1"} { // again, and its own: no change
		if err := s.LinkContributor(ctx, "m_1", c, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Member(ctx, "m_1")
	if err != nil || got.Name != "Ada" || !got.CreatedAt.Equal(t0) || !slices.Equal(got.Linked, []string{"c_1", "c_2"}) {
		t.Fatalf("Member = %+v, %v; want Ada with c_1, c_2", got, err)
	}
	if _, err := s.Member(ctx, "m_9"); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("Member(m_9): %v, want not_found", err)
	}
	if id, err := s.MemberOf(ctx, "c_2"); id != "m_1" || err != nil {
		t.Errorf("MemberOf(c_2) = %q, %v; want m_1", id, err)
	}
	if id, err := s.MemberOf(ctx, "c_3"); id != "" || err != nil {
		t.Errorf("MemberOf(c_3) = %q, %v; want none", id, err)
	}

	pk := rlhf.Passkey{ID: []byte{1, 2, 3}, Member: "m_1", Data: []byte(`{"v":1}`), CreatedAt: t0}
	if err := s.AddPasskey(ctx, pk); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPasskey(ctx, pk); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("the same passkey again: %v, want conflict", err)
	}
	if err := s.UsePasskey(ctx, pk.ID, []byte(`{"v":2}`), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := s.Passkeys(ctx, "m_1")
	if err != nil || len(keys) != 1 || string(keys[0].Data) != `{"v":2}` || !keys[0].UsedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("Passkeys = %+v, %v; want the updated one", keys, err)
	}

	if err := s.AddIdentity(ctx, "https://idp", "alice", "m_1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddIdentity(ctx, "https://idp", "alice", "m_2", t0); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("alice again: %v, want conflict", err)
	}
	if id, _ := s.MemberByIdentity(ctx, "https://idp", "alice"); id != "m_1" {
		t.Errorf("MemberByIdentity(alice) = %q, want m_1", id)
	}
	if id, _ := s.MemberByIdentity(ctx, "https://other", "alice"); id != "" {
		t.Errorf("alice at another issuer = %q, want none", id)
	}

	for _, id := range []string{"s_1", "s_2", "s_3"} {
		if err := s.CreateSession(ctx, rlhf.MemberSession{ID: id, Member: "m_1", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		id   string
		want int64
	}{{"s_1", 1}, {"s_1", 0}, {"", 2}, {"", 0}} {
		if n, err := s.RevokeSessions(ctx, "m_1", tc.id, t0.Add(time.Hour)); n != tc.want || err != nil {
			t.Errorf("RevokeSessions(%q) = %d, %v; want %d", tc.id, n, err, tc.want)
		}
	}
	if se, err := s.Session(ctx, "s_2"); err != nil || !se.RevokedAt.Equal(t0.Add(time.Hour)) || se.Member != "m_1" {
		t.Errorf("Session(s_2) = %+v, %v; want revoked", se, err)
	}
}

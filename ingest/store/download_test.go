package store

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// keepAbout stores, for contributor c, every kind of record the store
// keeps about a contributor, each carrying marker: two voted battles (one
// gold), consent defaults, a terms acceptance, a narrowing, a quarantine
// and its lift, and an account with a passkey, an OpenID identity and a
// revoked session. It returns the account's member id.
func keepAbout(t *testing.T, s *Store, c, marker string) string {
	t.Helper()
	ctx := context.Background()
	for i := range 2 {
		r := personal(c, marker, i, true)
		if i == 1 {
			r.Battle.Gold, r.Battle.GoldWinner = "truncated", rlhf.SideA
		}
		if err := s.SaveBattle(ctx, &r.Battle); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveVote(ctx, &r.Battle, &r.Vote); err != nil {
			t.Fatal(err)
		}
	}
	member := "m_" + marker
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.SetConsentDefaults(ctx, c, rlhf.Consent{Scope: rlhf.ScopeResearch, Licence: "CC-BY-4.0", At: t0}))
	must(s.AcceptTerms(ctx, c, "terms-"+marker, t0.Add(time.Second)))
	_, err := s.NarrowVotes(ctx, rlhf.Narrowing{Contributor: c, Scope: rlhf.ScopeLeaderboard, VoteIDs: []string{c + "-v0"}, At: t0.Add(2 * time.Second)})
	must(err)
	must(s.Quarantine(ctx, rlhf.Quarantine{Contributor: c, Reason: "reason " + marker, Since: t0.Add(3 * time.Second)}, "detector"))
	must(s.LiftQuarantine(ctx, rlhf.QuarantineEvent{Contributor: c, Reason: "lifted " + marker, Actor: "admin", At: t0.Add(4 * time.Second)}))
	must(s.CreateMember(ctx, rlhf.Member{ID: member, Contributor: c, Name: "name " + marker, CreatedAt: t0}))
	must(s.AddPasskey(ctx, rlhf.Passkey{ID: []byte("key-" + marker), Member: member, Data: []byte(`{"public_key":"PUBLIC` + marker + `"}`), CreatedAt: t0}))
	must(s.AddIdentity(ctx, "https://idp.example", "subject-"+marker, member, t0))
	must(s.CreateSession(ctx, rlhf.MemberSession{ID: "session-" + marker, Member: member, CreatedAt: t0}))
	_, err = s.RevokeSessions(ctx, member, "session-"+marker, t0.Add(5*time.Second))
	must(err)
	return member
}

// TestDownloadHoldsEverything checks the download of one of two
// contributors with every kind of record against what was stored: all of
// theirs, none of the other's, no secret; and that an erasure deletes
// their narrowings with the rest.
func TestDownloadHoldsEverything(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	member := keepAbout(t, s, "me", "MINE")
	keepAbout(t, s, "other", "THEIRS")
	d, err := s.ContributorData(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Battles) != 2 || len(d.Votes) != 2 || d.Consent == nil || d.Consent.Scope != rlhf.ScopeResearch {
		t.Errorf("download: %d battles, %d votes, consent %v; want 2, 2, research", len(d.Battles), len(d.Votes), d.Consent)
	}
	if len(d.Terms) != 1 || d.Terms[0] != (rlhf.TermsAcceptance{Version: "terms-MINE", At: t0.Add(time.Second)}) {
		t.Errorf("terms = %+v, want terms-MINE at %v", d.Terms, t0.Add(time.Second))
	}
	if len(d.Narrowings) != 1 || d.Narrowings[0].Scope != rlhf.ScopeLeaderboard || d.Narrowings[0].Narrowed != 1 ||
		len(d.Narrowings[0].VoteIDs) != 1 || !d.Narrowings[0].At.Equal(t0.Add(2*time.Second)) {
		t.Errorf("narrowings = %+v, want one of me-v0 to leaderboard", d.Narrowings)
	}
	if len(d.Quarantine) != 2 || d.Quarantine[0].Action != "quarantine" || d.Quarantine[1].Reason != "lifted MINE" {
		t.Errorf("quarantine = %+v, want the quarantine and its lift", d.Quarantine)
	}
	if d.Gold != rlhf.NewGoldScore("me", 1, 1) {
		t.Errorf("gold = %+v, want 1 of 1", d.Gold)
	}
	a := d.Account
	if a == nil || a.Member.ID != member || a.Member.Name != "name MINE" || len(a.Passkeys) != 1 || string(a.Passkeys[0].ID) != "key-MINE" ||
		len(a.Identities) != 1 || a.Identities[0].Subject != "subject-MINE" || len(a.Sessions) != 1 || a.Sessions[0].RevokedAt.IsZero() {
		t.Errorf("account = %+v, want the member with its passkey, identity and revoked session", a)
	}
	raw, _ := json.Marshal(d)
	for _, bad := range []string{"THEIRS", "PUBLICMINE", "session-MINE"} {
		if bytes.Contains(raw, []byte(bad)) {
			t.Errorf("download holds %q (another's record, a credential's data or a session id)", bad)
		}
	}

	if _, err := s.Erase(ctx, "me", &rlhf.Erasure{ID: "e1", Actor: "contributor", At: t0}); err != nil {
		t.Fatal(err)
	}
	if d, err := s.ContributorData(ctx, "me"); err != nil || len(d.Narrowings)+len(d.Terms)+len(d.Votes) != 0 {
		t.Errorf("download after the erasure: %+v, %v; want no narrowing, terms or vote", d, err)
	}
	if d, err := s.ContributorData(ctx, "other"); err != nil || len(d.Narrowings) != 1 || len(d.Votes) != 2 {
		t.Errorf("the other's download after the erasure: %+v, %v; want their narrowing and votes", d, err)
	}
}

package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

func TestAccountsAndTokens(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	lab := &rlhf.Account{ID: "acme", Kind: rlhf.KindLab, Name: "Acme AI", CreatedAt: t0}
	if err := s.CreateAccount(ctx, lab); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, lab); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("CreateAccount(twice) = %v, want conflict", err)
	}
	if err := s.CreateAccount(ctx, &rlhf.Account{ID: "Bad Id", Kind: rlhf.KindLab}); rlhf.ErrorCode(err) != rlhf.EInvalid {
		t.Errorf("CreateAccount(bad id) = %v, want invalid", err)
	}
	if err := s.CreateAccount(ctx, &rlhf.Account{ID: "rita", Kind: rlhf.KindResearcher, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, "acme", "hash1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, "nobody", "hash2", t0); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("AddToken(no account) = %v, want not found", err)
	}
	got, err := s.AccountByToken(ctx, "hash1")
	if err != nil || got.ID != "acme" || got.Kind != rlhf.KindLab || !got.CreatedAt.Equal(t0) {
		t.Fatalf("AccountByToken(hash1) = %+v, %v; want acme", got, err)
	}
	if _, err := s.AccountByToken(ctx, "nope"); rlhf.ErrorCode(err) != rlhf.EUnauthorized {
		t.Errorf("AccountByToken(unknown) = %v, want unauthorized", err)
	}
	labs, err := s.Accounts(ctx, rlhf.KindLab)
	if err != nil || len(labs) != 1 || labs[0].ID != "acme" {
		t.Errorf("Accounts(lab) = %v, %v; want [acme]", labs, err)
	}
	if err := s.DisableAccount(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountByToken(ctx, "hash1"); rlhf.ErrorCode(err) != rlhf.EUnauthorized {
		t.Errorf("AccountByToken after disable = %v, want unauthorized", err)
	}
	if err := s.AddToken(ctx, "acme", "hash3", t0); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("AddToken(disabled) = %v, want conflict", err)
	}
}

func testModel(name string) *rlhf.EndpointModel {
	lab, _, _ := rlhf.SplitModelName(name)
	return &rlhf.EndpointModel{Name: name, Lab: lab, BaseURL: "https://api.example.com/v1", ModelID: "m",
		MaxTokens: 100, ConnectTimeout: rlhf.Duration(1e9), FirstTokenTimeout: rlhf.Duration(1e9), IdleTimeout: rlhf.Duration(1e9), MaxAnswerBytes: 1000, Tags: []string{"x"},
		CreatedAt: t0, UpdatedAt: t0}
}

func TestModelsRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.CreateAccount(ctx, &rlhf.Account{ID: "acme", Kind: rlhf.KindLab, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	m := testModel("acme/one")
	m.SealedKey = []byte("sealed-bytes")
	if err := s.CreateModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateModel(ctx, m); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("CreateModel(twice) = %v, want conflict", err)
	}
	if err := s.CreateModel(ctx, testModel("other/one")); err == nil {
		t.Error("CreateModel for a lab with no account succeeded")
	}
	up := testModel("acme/one")
	up.MaxTokens, up.Paused, up.SealedKey = 7, true, []byte("sealed-bytes")
	if err := s.UpdateModel(ctx, up); err != nil {
		t.Fatal(err)
	}
	ms, err := s.Models(ctx)
	if err != nil || len(ms) != 1 {
		t.Fatalf("Models = %v, %v", ms, err)
	}
	got := ms[0]
	if got.MaxTokens != 7 || !got.Paused || string(got.SealedKey) != "sealed-bytes" || !got.HasKey || got.Tags[0] != "x" {
		t.Errorf("after update, model = %+v", got)
	}
	up.SealedKey = nil
	if err := s.UpdateModel(ctx, up); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.Models(ctx); ms[0].HasKey || ms[0].SealedKey != nil {
		t.Errorf("after an update without a key, model = %+v, want no key", ms[0])
	}
	if err := s.UpdateModel(ctx, testModel("acme/two")); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("UpdateModel(missing) = %v, want not found", err)
	}
	if err := s.DeleteModel(ctx, "acme/one"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteModel(ctx, "acme/one"); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("DeleteModel(twice) = %v, want not found", err)
	}
}

func TestCampaignPromptsAndProgress(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.CreateAccount(ctx, &rlhf.Account{ID: "acme", Kind: rlhf.KindLab, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	c := &rlhf.Campaign{ID: "camp1", Lab: "acme", Name: "Maths", Models: []string{"alpha", "beta", "gamma"},
		VoteTarget: 3, Status: rlhf.CampaignDraft, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	prompts := []rlhf.Prompt{{ID: "p1", Text: "one", Category: "math", Language: "en"}, {ID: "p2", Text: "two"}}
	if err := s.SetPrompts(ctx, "camp1", prompts); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.NextPrompt(ctx, "camp1"); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("NextPrompt(draft) = %v, want conflict", err)
	}
	if _, _, err := s.NextPrompt(ctx, "nope"); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("NextPrompt(missing) = %v, want not found", err)
	}
	c.Status = rlhf.CampaignRunning
	if err := s.UpdateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPrompts(ctx, "camp1", prompts); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("SetPrompts(running) = %v, want conflict", err)
	}
	// Round robin: p1, p2, p1, p2.
	for i, want := range []string{"p1", "p2", "p1", "p2"} {
		got, p, err := s.NextPrompt(ctx, "camp1")
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != want || got.ID != "camp1" || len(got.Models) != 3 {
			t.Errorf("NextPrompt #%d = %s (campaign %+v), want %s", i, p.ID, got, want)
		}
		if p.ID == "p1" && (p.Category != "math" || p.Language != "en" || p.Text != "one") {
			t.Errorf("prompt p1 = %+v", p)
		}
	}

	// Battles: alpha-beta voted a (alpha wins), beta-alpha voted a (beta
	// wins), beta-gamma tie, and one unvoted; one battle of no campaign.
	battle := func(id, a, b, campaign string, w rlhf.Winner) {
		t.Helper()
		bt := testBattle(id, 1)
		bt.ModelA, bt.ModelB, bt.CampaignID = a, b, campaign
		if err := s.SaveBattle(ctx, bt); err != nil {
			t.Fatal(err)
		}
		if w != "" {
			v := testVote(bt, "v-"+id)
			v.Winner = w
			bt.Status = rlhf.StatusVoted
			if err := s.SaveVote(ctx, bt, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	battle("b1", "alpha", "beta", "camp1", rlhf.WinnerA)
	battle("b2", "beta", "alpha", "camp1", rlhf.WinnerA)
	battle("b3", "gamma", "beta", "camp1", rlhf.WinnerTie)
	battle("b4", "alpha", "gamma", "camp1", "")
	battle("b5", "alpha", "beta", "", rlhf.WinnerB)

	pr, err := s.CampaignProgress(ctx, "camp1")
	if err != nil {
		t.Fatal(err)
	}
	want := rlhf.CampaignProgress{Campaign: "camp1", Status: rlhf.CampaignDone, VoteTarget: 3, Votes: 3, Battles: 4,
		Prompts: 2, PromptsServed: 2, Pairs: []rlhf.PairProgress{
			{ModelA: "alpha", ModelB: "beta", Battles: 2, Votes: 2, WinsA: 1, WinsB: 1},
			{ModelA: "alpha", ModelB: "gamma", Battles: 1},
			{ModelA: "beta", ModelB: "gamma", Battles: 1, Votes: 1, Ties: 1},
		}}
	if fmt.Sprint(*pr) != fmt.Sprint(want) {
		t.Errorf("CampaignProgress =\n%+v\nwant\n%+v", *pr, want)
	}
	// The target is reached: no more prompts.
	if _, _, err := s.NextPrompt(ctx, "camp1"); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("NextPrompt(done) = %v, want conflict", err)
	}
	list, err := s.Campaigns(ctx, "acme")
	if err != nil || len(list) != 1 || list[0].Status != rlhf.CampaignDone || list[0].Votes != 3 || list[0].Prompts != 2 {
		t.Errorf("Campaigns(acme) = %+v, %v", list, err)
	}
	if list, _ := s.Campaigns(ctx, "other"); len(list) != 0 {
		t.Errorf("Campaigns(other) = %+v, want none", list)
	}
	if err := s.DeleteCampaign(ctx, "camp1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Campaign(ctx, "camp1"); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("Campaign after delete = %v, want not found", err)
	}
}

// BenchmarkNextPrompt measures handing out one campaign prompt (a write:
// the prompt's served count) on a set of 10000 prompts.
func BenchmarkNextPrompt(b *testing.B) {
	s, err := Open(b.TempDir() + "/agora.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateAccount(ctx, &rlhf.Account{ID: "acme", Kind: rlhf.KindLab, CreatedAt: t0}); err != nil {
		b.Fatal(err)
	}
	c := &rlhf.Campaign{ID: "c", Lab: "acme", Name: "n", Models: []string{"a", "b"}, VoteTarget: 10_000_000,
		Status: rlhf.CampaignDraft, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateCampaign(ctx, c); err != nil {
		b.Fatal(err)
	}
	ps := make([]rlhf.Prompt, 10000)
	for i := range ps {
		ps[i] = rlhf.Prompt{ID: fmt.Sprint(i), Text: "prompt text"}
	}
	if err := s.SetPrompts(ctx, "c", ps); err != nil {
		b.Fatal(err)
	}
	c.Status = rlhf.CampaignRunning
	if err := s.UpdateCampaign(ctx, c); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.NextPrompt(ctx, "c"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

package rlhf

import (
	"strings"
	"testing"
	"time"
)

func TestWinnerArenaRoundTrip(t *testing.T) {
	for _, w := range []Winner{WinnerA, WinnerB, WinnerTie, WinnerBothBad} {
		got, err := ParseArenaWinner(w.ArenaWinner())
		if err != nil || got != w {
			t.Errorf("ParseArenaWinner(%q) = %q, %v; want %q", w.ArenaWinner(), got, err, w)
		}
	}
	if _, err := ParseArenaWinner("left"); ErrorCode(err) != EInvalid {
		t.Errorf("ParseArenaWinner(left) error = %v, want invalid", err)
	}
}

func TestStrengthMargin(t *testing.T) {
	tests := []struct {
		s    Strength
		want float64
		ok   bool
	}{
		{StrengthSignificant, 1, true}, {StrengthClear, 2.0 / 3, true}, {StrengthSlight, 1.0 / 3, true},
		{StrengthNegligible, 0, true}, {"", 0, false},
	}
	for _, tt := range tests {
		if got, ok := tt.s.Margin(); got != tt.want || ok != tt.ok {
			t.Errorf("Strength(%q).Margin() = %v, %v; want %v, %v", tt.s, got, ok, tt.want, tt.ok)
		}
	}
	if StrengthSignificant.Rank() <= StrengthClear.Rank() || StrengthClear.Rank() <= StrengthSlight.Rank() {
		t.Error("Rank does not order the strengths")
	}
}

func TestVoteValidate(t *testing.T) {
	ok := Vote{ID: "v", BattleID: "b", Winner: WinnerTie, CreatedAt: time.Now()}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid vote: %v", err)
	}
	bad := []func(v *Vote){
		func(v *Vote) { v.ID = "" },
		func(v *Vote) { v.BattleID = "" },
		func(v *Vote) { v.Winner = "model_a" },
		func(v *Vote) { v.Strength = "huge" },
		func(v *Vote) { v.Reason = strings.Repeat("x", MaxReasonBytes+1) },
		func(v *Vote) { v.Reason = "\xff" },
	}
	for i, mutate := range bad {
		v := ok
		mutate(&v)
		if err := v.Validate(); ErrorCode(err) != EInvalid {
			t.Errorf("case %d: Validate(%+v) = %v, want invalid", i, v, err)
		}
	}
}

func TestBattleConversationAndValidate(t *testing.T) {
	b := Battle{ID: "b", ModelA: "x", ModelB: "y", Turns: []Turn{
		{Index: 0, Prompt: "p1", A: Answer{Content: "a1"}, B: Answer{Content: "b1"}},
		{Index: 1, Prompt: "p2", A: Answer{Content: "a2"}, B: Answer{Content: "b2"}},
	}}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	conv := b.Conversation(SideB)
	var got []string
	for _, m := range conv {
		got = append(got, m.Role+":"+m.Content)
	}
	if want := "user:p1 assistant:b1 user:p2 assistant:b2"; strings.Join(got, " ") != want {
		t.Errorf("Conversation(b) = %v, want %s", got, want)
	}
	b.ModelB = "x"
	if err := b.Validate(); err == nil {
		t.Error("a battle of a model against itself is valid")
	}
	b.ModelB, b.Turns[1].Index = "y", 5
	if err := b.Validate(); err == nil {
		t.Error("a battle with a misnumbered turn is valid")
	}
}

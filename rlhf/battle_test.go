package rlhf

import "testing"

func TestRecordFailed(t *testing.T) {
	ok := Answer{Content: "fine"}
	bad := Answer{Content: "half an ans", ErrorCode: "upstream"}
	tests := []struct {
		name  string
		turns []Turn
		want  bool
	}{
		{"no turns", nil, false},
		{"both answered", []Turn{{A: ok, B: ok}}, false},
		{"side a failed", []Turn{{A: bad, B: ok}}, true},
		{"side b failed in a later turn", []Turn{{A: ok, B: ok}, {Index: 1, A: ok, B: bad}}, true},
		{"empty answer without error", []Turn{{A: Answer{}, B: ok}}, false},
	}
	for _, tt := range tests {
		r := Record{Battle: Battle{Turns: tt.turns}}
		if got := r.Failed(); got != tt.want {
			t.Errorf("%s: Failed() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestMyGold plays two gold battles over a real websocket, one judged as a
// careful reader would and one not: GET /api/v1/me/gold gives the caller
// their own 1 of 2, another contributor none, and no token a 401.
func TestMyGold(t *testing.T) {
	s := newSetup(t, options{gold: arena.GoldConfig{Share: 1, Kinds: []string{rlhf.GoldOffTopic}}})
	c := s.dial(t, nil)
	for i, careful := range []bool{true, false} {
		id, _ := c.start("Tell me about rivers")
		b, err := s.store.Battle(context.Background(), id)
		if err != nil || b.Gold == "" || b.GoldWinner == "" {
			t.Fatalf("battle %d: gold %q winner %q (%v); want a scored gold battle", i, b.Gold, b.GoldWinner, err)
		}
		winner := string(b.GoldWinner)
		if !careful {
			winner = map[string]string{"a": "b", "b": "a"}[winner]
		}
		if f := c.vote(id, winner, nil); f["type"] != "voted" {
			t.Fatalf("vote %d = %v", i, f)
		}
	}
	var mine rlhf.GoldScore
	code, body := call(t, s, "GET", "/api/v1/me/gold", c.hello["token"].(string), nil)
	if err := json.Unmarshal(body, &mine); code != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/me/gold = %d %s (%v)", code, body, err)
	}
	if want := rlhf.NewGoldScore(c.hello["contributor_id"].(string), 2, 1); mine != want {
		t.Errorf("my gold = %+v, want %+v", mine, want)
	}
	other := s.dial(t, nil)
	var theirs rlhf.GoldScore
	_, body = call(t, s, "GET", "/api/v1/me/gold", other.hello["token"].(string), nil)
	if json.Unmarshal(body, &theirs); theirs.Battles != 0 || theirs.Contributor != other.hello["contributor_id"] {
		t.Errorf("another contributor's gold = %+v, want their own, with no battles", theirs)
	}
	if code, _ := call(t, s, "GET", "/api/v1/me/gold", "", nil); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", code)
	}
}

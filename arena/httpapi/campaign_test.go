package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestCampaignThroughTheWebsocket: a lab uploads a prompt set, picks
// models and a vote target; contributors' start requests that name the
// campaign get its prompts, in turn, between its models; the progress
// counts what happened.
func TestCampaignThroughTheWebsocket(t *testing.T) {
	for _, upload := range []struct{ name, contentType, body string }{
		{"jsonl", "application/jsonl", `{"id":"q1","text":"What is 2+2?","category":"math","language":"en"}
{"id":"q2","text":"Nenne eine Farbe.","category":"general","language":"de"}
{"text":"Name a prime."}
`},
		{"csv", "text/csv", "id,text,category,language\nq1,What is 2+2?,math,en\nq2,Nenne eine Farbe.,general,de\n,Name a prime.,,\n"},
	} {
		t.Run(upload.name, func(t *testing.T) {
			ls := newLabSetup(t)
			acme := ls.account("labs", "acme")
			ls.model(acme, "m1", "")
			ls.model(acme, "m2", "")
			models := []string{"acme/m1", "acme/m2", "base-1"}
			var camp struct{ Campaign rlhf.Campaign }
			ls.must(201, "POST", "/api/v1/campaigns", acme, map[string]any{"name": "Eval", "models": models, "vote_target": 6}, &camp)
			id := camp.Campaign.ID
			if camp.Campaign.Status != rlhf.CampaignDraft || !strings.HasPrefix(id, "cmp_") {
				t.Fatalf("new campaign = %+v", camp.Campaign)
			}
			// Not running yet: a contributor cannot use it.
			c := ls.dialWS(t)
			c.send(map[string]any{"type": "start", "campaign": id})
			if f := c.until("error"); f["code"] != rlhf.EConflict {
				t.Errorf("start with a draft campaign = %v, want a conflict error", f)
			}
			if st, body := ls.do("POST", "/api/v1/campaigns/"+id+"/start", acme, "", nil); st != http.StatusConflict {
				t.Errorf("start without prompts = %d %s, want 409", st, body)
			}
			if st, body := ls.do("PUT", "/api/v1/campaigns/"+id+"/prompts", acme, upload.contentType, upload.body); st != 200 || !strings.Contains(string(body), `"prompts":3`) {
				t.Fatalf("upload = %d %s", st, body)
			}
			ls.must(200, "POST", "/api/v1/campaigns/"+id+"/start", acme, nil, nil)

			// Six battles: the prompts come round in order, twice.
			wantPrompts := []string{"What is 2+2?", "Nenne eine Farbe.", "Name a prime."}
			winners := []string{"a", "b", "tie", "a", "both_bad", "a"}
			type pair struct{ a, b string }
			wins := map[pair][4]int{} // by sorted pair: wins of the first, of the second, ties, both bad
			for i, w := range winners {
				c.send(map[string]any{"type": "start", "campaign": id})
				bid := c.until("battle")["battle_id"].(string)
				c.readTurn(bid)
				v := c.vote(bid, w, nil)
				ma, mb := v["model_a"].(string), v["model_b"].(string)
				if !contains(models, ma) || !contains(models, mb) || ma == mb {
					t.Errorf("battle %d between %s and %s, want two of %v", i, ma, mb, models)
				}
				b, err := ls.store.Battle(t.Context(), bid)
				if err != nil {
					t.Fatal(err)
				}
				if b.Turns[0].Prompt != wantPrompts[i%3] || b.CampaignID != id {
					t.Errorf("battle %d: prompt %q campaign %q, want %q %q", i, b.Turns[0].Prompt, b.CampaignID, wantPrompts[i%3], id)
				}
				if i%3 == 0 && (b.Category != "math" || b.Language != "en") {
					t.Errorf("battle %d: category %q language %q, want math en", i, b.Category, b.Language)
				}
				p, cnt := pair{ma, mb}, [4]int{}
				flip := mb < ma
				if flip {
					p = pair{mb, ma}
				}
				cnt = wins[p]
				switch {
				case w == "tie":
					cnt[2]++
				case w == "both_bad":
					cnt[3]++
				case (w == "a") != flip:
					cnt[0]++
				default:
					cnt[1]++
				}
				wins[p] = cnt
			}
			// A start with no unvoted battle beyond the target is refused.
			c.send(map[string]any{"type": "start", "campaign": id})
			if f := c.until("error"); f["code"] != rlhf.EConflict || !strings.Contains(f["message"].(string), "votes") {
				t.Errorf("start past the target = %v, want a conflict", f)
			}

			var pr struct{ Progress rlhf.CampaignProgress }
			ls.must(200, "GET", "/api/v1/campaigns/"+id+"/progress", acme, nil, &pr)
			got := pr.Progress
			if got.Votes != 6 || got.Battles != 6 || got.VoteTarget != 6 || got.Prompts != 3 || got.PromptsServed != 3 || got.Status != rlhf.CampaignDone {
				t.Errorf("progress = %+v", got)
			}
			total := 0
			for _, pp := range got.Pairs {
				w := wins[pair{pp.ModelA, pp.ModelB}]
				if pp.WinsA != w[0] || pp.WinsB != w[1] || pp.Ties != w[2] || pp.BothBad != w[3] || pp.Votes != w[0]+w[1]+w[2]+w[3] {
					t.Errorf("pair %s/%s = %+v, want wins %v", pp.ModelA, pp.ModelB, pp, w)
				}
				total += pp.Votes
			}
			if total != 6 || len(got.Pairs) != len(wins) {
				t.Errorf("pairs %+v, want %d pairs with 6 votes", got.Pairs, len(wins))
			}
			var ps struct {
				Prompts []struct {
					ID     string
					Served int
				}
			}
			ls.must(200, "GET", "/api/v1/campaigns/"+id+"/prompts", acme, nil, &ps)
			if len(ps.Prompts) != 3 || ps.Prompts[0].ID != "q1" || ps.Prompts[2].ID != "3" || ps.Prompts[0].Served != 2 {
				t.Errorf("prompts = %+v", ps.Prompts)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

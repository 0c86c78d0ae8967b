package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
	"github.com/agora-rlhf/agora/rlhf"
)

// recordSource is a hand-written rlhf.RecordSource over a slice.
type recordSource []rlhf.Record

func (s recordSource) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	for i := range s {
		if err := fn(&s[i]); err != nil {
			return err
		}
	}
	return nil
}

// newLive builds a live leaderboard from synthetic votes among models with
// known strengths; longer answers come from the stronger models. Every
// fourth battle is about coding, every fifth in Spanish, the rest in
// English.
func newLive(t *testing.T) (*analytics.Live, *analytics.Synth) {
	t.Helper()
	s, err := analytics.NewSynth(analytics.SynthConfig{Models: 8, Battles: 4000, Seed: 3, TieRate: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	var recs []rlhf.Record
	s.Generate(func(b *analytics.Battle) error {
		i := len(recs)
		id := fmt.Sprint("b", i)
		category, language := "", "English"
		if i%4 == 0 {
			category = rlhf.CategoryCoding
		}
		if i%5 == 0 {
			language = "Spanish"
		}
		recs = append(recs, rlhf.Record{
			Battle: rlhf.Battle{ID: id, ModelA: b.ModelA, ModelB: b.ModelB, Source: rlhf.SourceArena, Category: category, Language: language,
				Turns: []rlhf.Turn{{Prompt: "q",
					A: rlhf.Answer{Content: strings.Repeat("- item\n", 1+i%5), Tokens: 50 + i%97},
					B: rlhf.Answer{Content: "# Title\nplain", Tokens: 30 + i%53}}}},
			Vote: rlhf.Vote{ID: "v" + id, BattleID: id, ContributorID: fmt.Sprint("u", i%9), Winner: b.Winner, CreatedAt: b.Time},
		})
		return nil
	})
	live, err := analytics.NewLive(context.Background(), recordSource(recs))
	if err != nil {
		t.Fatal(err)
	}
	return live, s
}

// leaderboardToken is the researcher token of the leaderboard tests.
const leaderboardToken = "leaderboard-researcher-token"

// newLeaderboardServer serves the leaderboard routes on a real listener,
// mounted the way routes.go mounts them, without a rate limit.
func newLeaderboardServer(t *testing.T, lbs Leaderboards) string {
	t.Helper()
	return newLeaderboardServerWith(t, lbs, Rate{}, slog.New(slog.DiscardHandler))
}

// newLeaderboardServerWith is newLeaderboardServer with a rate limit per
// client address and a log.
func newLeaderboardServerWith(t *testing.T, lbs Leaderboards, rate Rate, log *slog.Logger) string {
	t.Helper()
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{log: log, static: static, assets: newAssets(static), cfg: Config{Leaderboards: lbs, ResearcherToken: leaderboardToken}}
	daily, _ := lbs.(DailyVotes)
	if lbs != nil {
		s.public = newPublicBoards(lbs)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.RunLeaderboards(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	api := s.newLeaderboardAPI(lbs, daily, rate)
	r.GET("/leaderboard", s.wrap(s.handleLeaderboardPage))
	r.GET("/api/v1/leaderboard", s.wrap(handleLeaderboard(api)))
	r.GET("/api/v1/leaderboard/daily", s.wrap(handleVotesPerDay(api)))
	r.StaticFS("/static", http.FS(static))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

// getJSON gets url as a researcher and decodes the answer into into.
func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	return getJSONAs(t, leaderboardToken, url, into)
}

// getJSONAs gets url with token ("" for none) and decodes the answer into
// into.
func getJSONAs(t *testing.T, token, url string, into any) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode
}

// getPublished is getJSONAs without a token for a published board: like a
// patient client it waits out a 429 (a variant not fitted yet, fitted at
// the paced worker's rate, which a busy machine slows) for its
// Retry-After, for up to two minutes.
func getPublished(t *testing.T, url string, into any) int {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		if res.StatusCode == http.StatusTooManyRequests && time.Now().Before(deadline) {
			res.Body.Close()
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			continue
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		return res.StatusCode
	}
}

func TestLeaderboardAPI(t *testing.T) {
	live, synth := newLive(t)
	base := newLeaderboardServer(t, live)
	var lb analytics.Leaderboard
	if code := getJSON(t, base+"/api/v1/leaderboard?rounds=200&seed=5", &lb); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if lb.Battles != 4000 || len(lb.Models) != 8 || lb.Rounds != 200 || lb.Seed != 5 || lb.Matrices == nil {
		t.Fatalf("leaderboard: %d battles, %d models, rounds %d, seed %d", lb.Battles, len(lb.Models), lb.Rounds, lb.Seed)
	}
	best := 0
	for i, r := range synth.Truth {
		if r > synth.Truth[best] {
			best = i
		}
	}
	if lb.Models[0].Model != synth.Models[best] {
		t.Errorf("top model %s, want the truly strongest %s", lb.Models[0].Model, synth.Models[best])
	}
	// Filters and style control as query parameters.
	var styled analytics.Leaderboard
	getJSON(t, base+"/api/v1/leaderboard?style=true&ties=exclude&contributors=u1,u2&matrices=false", &styled)
	if styled.Method != "bradley-terry-style-control" || styled.Style == nil || styled.Ties != "excluded" || styled.Matrices != nil {
		t.Errorf("style request: method %q, ties %q, style %v", styled.Method, styled.Ties, styled.Style)
	}
	if styled.Battles >= lb.Battles {
		t.Errorf("contributor filter kept %d of %d battles", styled.Battles, lb.Battles)
	}
	var rel analytics.Leaderboard
	getJSON(t, base+"/api/v1/leaderboard?weighting=reliability&rounds=20&fragility=true", &rel)
	if rel.Method != "crowd-bradley-terry" || rel.Reliability == nil || rel.Interval != "bootstrap-percentile-contributors" ||
		len(rel.Models) != 8 || rel.Models[0].UnadjustedRating == nil || rel.Fragility == nil || len(rel.Fragility.Pairs) != 7 {
		t.Errorf("weighting=reliability: method %q, interval %q, reliability %v", rel.Method, rel.Interval, rel.Reliability)
	}
	for _, q := range []string{"rounds=-1", "rounds=99999", "ci=2", "style=maybe", "ties=some", "since=yesterday", "anchor=model-001", "weighting=heavy"} {
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if code := getJSON(t, base+"/api/v1/leaderboard?"+q, &body); code != http.StatusBadRequest || body.Error.Code != rlhf.EInvalid {
			t.Errorf("?%s: status %d, error %+v; want 400 invalid", q, code, body.Error)
		}
	}
}

// TestLeaderboardPageInChromium loads the page in a real browser: the table
// fills, the chart and the heat map are drawn, and the style switch refetches
// the style-controlled board.
func TestLeaderboardPageInChromium(t *testing.T) {
	ctx := browsertest.New(t)
	live, _ := newLive(t)
	base := newLeaderboardServer(t, live)

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/leaderboard"),
		chromedp.WaitVisible(chromedp.CSS("#board tbody tr")),
	)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#board tbody tr").length`))
	if err != nil || rows != 8 {
		t.Errorf("table rows = %d (%v), want 8", rows, err)
	}
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll("#chart circle").length, document.querySelectorAll("#heatmap rect").length]`))
	if err != nil || len(drawn) != 2 || drawn[0] != 8 || drawn[1] != 64 {
		t.Errorf("chart dots and heat-map cells = %v (%v), want 8 and 64", drawn, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.SaveScreenshot(t, "leaderboard.png", png)
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("style")),
		chromedp.WaitVisible(chromedp.ID("style-coefficients")),
	)
	if err != nil {
		t.Fatal(err)
	}
	method, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("method")))
	if err != nil || !strings.Contains(method, "Style control") {
		t.Errorf("after the style switch the method reads %q (%v)", method, err)
	}
	if png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatal(err)
	}
	browsertest.SaveScreenshot(t, "leaderboard-style.png", png)
}

// apiError is the body of an error answer.
type apiError struct {
	Error struct{ Code, Message string } `json:"error"`
}

// TestLeaderboardPublicPrice checks what anyone may ask: the published
// fits, served from the cache while votes arrive (up to publicMaxAge),
// with matrices cut from the same fit; anything else needs a researcher
// token, which gets a fresh fit.
func TestLeaderboardPublicPrice(t *testing.T) {
	live, synth := newLive(t)
	base := newLeaderboardServer(t, live) + "/api/v1/leaderboard"
	var first, again, plain analytics.Leaderboard
	if code := getPublished(t, base+"?style=false", &first); code != http.StatusOK || first.Battles != 4000 || first.Matrices == nil {
		t.Fatalf("public board: status %d, %d battles, matrices %v", code, first.Battles, first.Matrices != nil)
	}
	for i := range 5 {
		r := rlhf.Record{Battle: rlhf.Battle{ModelA: synth.Models[0], ModelB: synth.Models[1]},
			Vote: rlhf.Vote{ID: fmt.Sprint("new", i), Winner: rlhf.WinnerA, CreatedAt: time.Now()}}
		if err := live.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	getJSONAs(t, "", base+"?matrices=false", &again)
	if again.Battles != 4000 || again.Matrices != nil {
		t.Errorf("public board after 5 votes: %d battles, matrices %v; want the cached fit of 4000 without matrices", again.Battles, again.Matrices != nil)
	}
	getJSON(t, base+"?rounds=1000", &plain)
	if plain.Battles != 4005 {
		t.Errorf("researcher's board after 5 votes: %d battles, want a fresh fit of 4005", plain.Battles)
	}
	for q, want := range map[string]string{
		"seed=7":                  "seed",
		"rounds=10000&style=true": "rounds",
		"weighting=reliability":   "weighting",
		"fragility=true&models=a": "fragility, models",
	} {
		var body apiError
		code := getJSONAs(t, "", base+"?"+q, &body)
		if code != http.StatusUnauthorized || !strings.Contains(body.Error.Message, want+" need a researcher token") {
			t.Errorf("public ?%s = %d %+v, want 401 naming %s", q, code, body.Error, want)
		}
		if code := getJSONAs(t, "not-a-token", base+"?"+q, &body); code != http.StatusUnauthorized {
			t.Errorf("?%s with a bad token = %d, want 401", q, code)
		}
	}
}

// TestLeaderboardPublicCuts checks the category and language anyone may
// cut the published leaderboard by: one known value, cached like the
// uncut board; anything else is a clear 400, or needs a researcher token.
func TestLeaderboardPublicCuts(t *testing.T) {
	live, synth := newLive(t)
	base := newLeaderboardServer(t, live) + "/api/v1/leaderboard"
	for q, want := range map[string]int64{"category=coding": 1000, "language=Spanish": 800, "category=coding&style=false": 1000, "language=English": 3200} {
		var lb analytics.Leaderboard
		if code := getPublished(t, base+"?"+q, &lb); code != http.StatusOK || lb.Battles != want {
			t.Errorf("public ?%s = %d, %d battles; want 200, %d", q, code, lb.Battles, want)
		}
	}
	r := rlhf.Record{Battle: rlhf.Battle{ModelA: synth.Models[0], ModelB: synth.Models[1], Category: rlhf.CategoryCoding},
		Vote: rlhf.Vote{ID: "new", Winner: rlhf.WinnerA, CreatedAt: time.Now()}}
	if err := live.Add(r); err != nil {
		t.Fatal(err)
	}
	var cached analytics.Leaderboard
	if getJSONAs(t, "", base+"?category=coding", &cached); cached.Battles != 1000 {
		t.Errorf("public coding board after a vote: %d battles, want the cached fit of 1000", cached.Battles)
	}
	for q, want := range map[string]string{
		"category=poetry":                  "want one of coding, math",
		"category=coding,math":             "want one of coding, math",
		"category=coding&category=math":    "want one of coding, math",
		"language=Klingon":                 "want one of English, Chinese",
		"category=coding&language=English": "not both",
	} {
		var body apiError
		if code := getJSONAs(t, "", base+"?"+q, &body); code != http.StatusBadRequest || !strings.Contains(body.Error.Message, want) {
			t.Errorf("public ?%s = %d %q, want 400 saying %q", q, code, body.Error.Message, want)
		}
	}
	var both analytics.Leaderboard
	if code := getJSON(t, base+"?category=coding&language=Spanish&rounds=10", &both); code != http.StatusOK || both.Battles != 200 {
		t.Errorf("researcher's coding and Spanish board = %d, %d battles; want 200, 200", code, both.Battles)
	}
}

// TestLeaderboardDaily checks a model's votes per day: public, cut like
// the board, and clear about a model or a cut it does not know.
func TestLeaderboardDaily(t *testing.T) {
	live, synth := newLive(t)
	base := newLeaderboardServer(t, live) + "/api/v1/leaderboard/daily"
	model := url.QueryEscape(synth.Models[0])
	var all, coding votesPerDay
	if code := getJSONAs(t, "", base+"?model="+model, &all); code != http.StatusOK || all.Model != synth.Models[0] || len(all.Days) != analytics.DailyDays {
		t.Fatalf("daily votes of %s = %d, %+v; want 200 and %d days", synth.Models[0], code, all, analytics.DailyDays)
	}
	getJSONAs(t, "", base+"?model="+model+"&category=coding", &coding)
	sum := func(v votesPerDay) (n int64) {
		for _, d := range v.Days {
			n += d.Votes
		}
		return n
	}
	if sum(all) == 0 || sum(coding) == 0 || sum(coding) >= sum(all) {
		t.Errorf("votes in the last days: %d in all, %d about coding; want some of each, fewer about coding", sum(all), sum(coding))
	}
	for q, want := range map[string]int{"": http.StatusBadRequest, "?model=nobody": http.StatusNotFound,
		"?model=" + model + "&category=poetry": http.StatusBadRequest} {
		var body apiError
		if code := getJSONAs(t, "", base+q, &body); code != want || body.Error.Message == "" {
			t.Errorf("GET daily%s = %d %+v, want %d with a message", q, code, body.Error, want)
		}
	}
}

// TestLeaderboardRateLimited spends one address's burst: the next request
// is refused with 429 and a Retry-After.
func TestLeaderboardRateLimited(t *testing.T) {
	live, _ := newLive(t)
	base := newLeaderboardServerWith(t, live, Rate{Every: time.Hour, Burst: 3}, slog.New(slog.DiscardHandler)) + "/api/v1/leaderboard"
	for i := range 3 {
		var lb analytics.Leaderboard
		if code := getJSONAs(t, "", base, &lb); code != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i, code)
		}
	}
	res, err := http.Get(base + "?style=true")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("request over the burst: status %d, Retry-After %q; want 429 with a Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// unfittable is a Leaderboards whose style-controlled fit cannot be done,
// answering as analytics.Live does.
type unfittable struct{ Leaderboards }

func (u unfittable) Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	if opt.Style {
		return nil, &rlhf.Error{Code: rlhf.EInvalid, Message: "the leaderboard cannot be fitted on these votes: style control: matrix is not positive definite"}
	}
	return u.Leaderboards.Leaderboard(ctx, opt)
}

// TestLeaderboardUnfittable asks for a style-controlled board that cannot
// be fitted: every request gets 400 with the reason; the log says it once.
func TestLeaderboardUnfittable(t *testing.T) {
	live, _ := newLive(t)
	var logs syncLog
	base := newLeaderboardServerWith(t, unfittable{live}, Rate{}, slog.New(slog.NewTextHandler(&logs, nil))) + "/api/v1/leaderboard"
	for range 3 {
		var body apiError
		code := getPublished(t, base+"?style=true", &body)
		if code != http.StatusBadRequest || body.Error.Code != rlhf.EInvalid || !strings.Contains(body.Error.Message, "not positive definite") {
			t.Fatalf("style on unfittable votes = %d %+v, want 400 with the reason", code, body.Error)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "not positive definite") {
		t.Errorf("the reason was logged %d times over 3 requests, want once:\n%s", n, logs.String())
	}
	var lb analytics.Leaderboard
	if code := getPublished(t, base, &lb); code != http.StatusOK {
		t.Errorf("the plain board = %d, want 200", code)
	}
}

// syncLog is a log destination safe for concurrent writes.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

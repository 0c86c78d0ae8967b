package arena

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

// Model answers a conversation, calling onText with each piece of the
// answer as it streams. Errors must be safe to show a contributor.
type Model interface {
	Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (finishReason string, tokens int, err error)
}

// Store keeps battles and votes. SaveVote must return only once the vote is
// durable, and fail with rlhf.EConflict for a battle that has a vote.
type Store interface {
	SaveBattle(ctx context.Context, b *rlhf.Battle) error
	SaveVote(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) error
}

// Votes finds committed votes in the store, so that a vote retried after
// a restart, or after its battle has left memory, gets its original answer.
type Votes interface {
	// VoteForBattle returns the vote on a battle, or rlhf.ENotFound.
	VoteForBattle(ctx context.Context, battleID string) (*rlhf.Vote, error)
	// Battle returns a stored battle with its turns.
	Battle(ctx context.Context, id string) (*rlhf.Battle, error)
}

// Campaigns hands out the prompts of labs' campaigns.
type Campaigns interface {
	// Next returns the next prompt of the campaign for a new battle, or
	// rlhf.ENotFound for a campaign that does not exist or is not running.
	Next(ctx context.Context, campaignID string) (CampaignPrompt, error)
}

// CampaignPrompt is one prompt of a campaign.
type CampaignPrompt struct {
	ID, Text           string
	Category, Language string
	Models             []string // the campaign's models; empty means any
}

// Guard tells whether a battle stayed anonymous.
type Guard interface {
	// Leak returns why b is not anonymous, or "" when it is.
	Leak(b *rlhf.Battle) string
}

// Sink receives the frames for one client. It must not block: the web
// package queues them and drops clients that fall behind.
type Sink func(Frame)

// Config is what an Arena needs.
type Config struct {
	Models                   map[string]Model // by public name, revealed after the vote; more come with SetModel
	Store                    Store
	Matcher                  Matcher // nil means Uniform
	MaxTurns                 int
	MaxPromptBytes           int
	MaxBattlesPerContributor int                // streaming at once
	MaxPendingBattles        int                // unvoted battles kept per contributor; 0 is no cap (pending.go)
	MaxPendingBytes          int64              // their prompts' and answers' bytes; 0 is no cap
	VoteWindow               time.Duration      // how long a finished battle waits for its vote
	Now                      func() time.Time   // nil means time.Now
	Rand                     *mrand.Rand        // nil means a random seed; used under the arena's lock
	OnVote                   func(*rlhf.Record) // called after each committed vote, if set, before its acknowledgement: it must not wait on anything slow (main queues the vote for the leaderboard)
	OnStart                  func(string)       // called with the contributor after each battle starts, if set
	Campaigns                Campaigns          // prompts for start requests that name a campaign; may be nil
	Guard                    Guard              // marks battles that are not anonymous; may be nil
	Receipts                 Receipts           // receipts of committed votes (the verifiable log); may be nil
	Points                   Points             // the points a committed vote earns, shown with the reveal; may be nil
	Votes                    Votes              // answers retried votes of battles no longer in memory; may be nil
	Consents                 Consents           // contributors' consent for their votes (consent.go); may be nil
	DefaultConsent           rlhf.Consent       // the operator's, for contributors who chose none
	Gold                     GoldConfig         // the share of gold battles (gold.go); zero is none
	Languages                LanguageDetector   // names the language of a battle's first prompt; may be nil
	Log                      *slog.Logger
}

// Validate checks c.
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("arena: no store")
	case c.MaxTurns < 1, c.MaxPromptBytes < 1, c.MaxBattlesPerContributor < 1, c.VoteWindow <= 0:
		return errors.New("arena: MaxTurns, MaxPromptBytes, MaxBattlesPerContributor and VoteWindow must be positive")
	}
	if err := c.Gold.Validate(); err != nil {
		return fmt.Errorf("arena: gold: %w", err)
	}
	return nil
}

// Arena runs battles. It is safe for concurrent use.
type Arena struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex           // guards the fields below
	models    map[string]Model     // by public name; changed by SetModel and RemoveModel
	names     []string             // the keys of models, sorted
	battles   map[string]*battle   // live battles: streaming, waiting for a vote, or recently voted
	streaming map[string]int       // battles streaming per contributor
	pending   map[string][]*battle // unvoted battles per contributor, oldest first (pending.go)
	rng       *mrand.Rand
	closed    bool

	wg sync.WaitGroup // streaming goroutines
}

// battle is a live battle.
type battle struct {
	id     string   // never changes
	owner  string   // the contributor; never changes
	models [2]Model // sides A and B; never change

	mu        sync.Mutex // guards the fields below; held across SaveVote so one vote wins
	b         rlhf.Battle
	vote      *rlhf.Vote
	streaming bool
	doneAt    time.Time // when the last turn finished, or the vote was cast

	// Guarded by Arena.mu, for the pending caps:
	size int64 // bytes of prompts and answers, as of the last finished turn
	busy bool  // streaming (the arena's copy of streaming)
	gone bool  // abandoned to make room: no longer the arena's
}

// New returns an Arena for cfg.
func New(cfg Config) (*Arena, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Matcher == nil {
		cfg.Matcher = Uniform{}
	}
	a := &Arena{
		cfg:       cfg,
		models:    map[string]Model{},
		log:       cfg.Log,
		battles:   map[string]*battle{},
		streaming: map[string]int{},
		pending:   map[string][]*battle{},
		rng:       cfg.Rand,
	}
	for name, m := range cfg.Models {
		a.models[name] = m
	}
	a.sortNames()
	return a, nil
}

// SetModel adds the model called name, or replaces it. Battles already
// running keep the model they started with.
func (a *Arena) SetModel(name string, m Model) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.models[name] = m
	a.sortNames()
}

// RemoveModel takes the model called name out of new battles.
func (a *Arena) RemoveModel(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.models, name)
	a.sortNames()
}

// Models returns the names of the models new battles choose from.
func (a *Arena) Models() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.names...)
}

// sortNames rebuilds names from models; a.mu must be held.
func (a *Arena) sortNames() {
	names := make([]string, 0, len(a.models))
	for name := range a.models {
		names = append(names, name)
	}
	a.names = sortedNames(names)
}

// MaxTurns returns the number of turns a battle may have.
func (a *Arena) MaxTurns() int { return a.cfg.MaxTurns }

// Start begins a battle for contributor and streams the first turn to
// sink. The prompt is req.Prompt, or the next prompt of campaign
// req.Campaign. The battle's streams end when ctx ends.
func (a *Arena) Start(ctx context.Context, contributor string, req Request, sink Sink) (string, error) {
	prompt, cp, err := a.startPrompt(ctx, req)
	if err != nil {
		return "", err
	}
	if err := a.checkPrompt(prompt); err != nil {
		return "", err
	}
	category, language := a.label(prompt, cp)
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return "", rlhf.Errorf(rlhf.EUnavailable, "the server is shutting down")
	}
	if a.streaming[contributor] >= a.cfg.MaxBattlesPerContributor {
		a.mu.Unlock()
		return "", rlhf.Errorf(rlhf.ELimit, "at most %d battles may stream at once; wait for one to finish", a.cfg.MaxBattlesPerContributor)
	}
	victims, err := a.makeRoom(contributor, true, int64(len(prompt)), nil)
	if err != nil {
		a.mu.Unlock()
		return "", err
	}
	candidates := a.names
	if cp != nil && len(cp.Models) > 0 {
		candidates = intersect(a.names, cp.Models)
	}
	modelA, modelB, err := a.cfg.Matcher.Pair(candidates, a.rng)
	if err == nil && (modelA == modelB || a.models[modelA] == nil || a.models[modelB] == nil) {
		// Say nothing of the models: the contributor must not learn them.
		err = &rlhf.Error{Code: rlhf.EInternal, Message: "could not choose two models",
			Err: fmt.Errorf("matcher chose %q and %q", modelA, modelB)}
	}
	if err != nil {
		a.mu.Unlock()
		a.abandon(ctx, victims)
		return "", err
	}
	now := a.cfg.Now()
	bt := &battle{owner: contributor, models: [2]Model{a.models[modelA], a.models[modelB]}, streaming: true, b: rlhf.Battle{
		ID: newID(), ContributorID: contributor, ModelA: modelA, ModelB: modelB,
		Status: rlhf.StatusStreaming, Source: rlhf.SourceArena, CreatedAt: now, UpdatedAt: now,
		Category: category, Language: language, Turns: []rlhf.Turn{{Index: 0, Prompt: prompt, At: now}},
	}}
	if cp != nil {
		bt.b.CampaignID = req.Campaign
	} else {
		a.maybeGold(bt)
	}
	id := bt.b.ID
	bt.id = id
	snapshot := bt.b
	snapshot.Turns = append([]rlhf.Turn(nil), bt.b.Turns...)
	bt.busy, bt.size = true, int64(len(prompt))
	a.battles[id] = bt
	a.addPending(bt)
	a.streaming[contributor]++
	a.wg.Add(1)
	a.mu.Unlock()
	a.abandon(ctx, victims)

	if err := a.cfg.Store.SaveBattle(ctx, &snapshot); err != nil {
		a.mu.Lock()
		delete(a.battles, id)
		a.dropPending(bt)
		a.streaming[contributor]--
		a.mu.Unlock()
		a.wg.Done()
		return "", storeError("start a battle", err)
	}
	if a.cfg.OnStart != nil {
		a.cfg.OnStart(contributor)
	}
	sink(Frame{Type: FrameBattle, BattleID: id, Turn: intp(0), MaxTurns: a.cfg.MaxTurns, Prompt: prompt, Campaign: req.Campaign})
	go a.streamTurn(ctx, bt, 0, sink)
	return id, nil
}

// Continue adds a turn with content to the contributor's battle and
// streams both answers to sink.
func (a *Arena) Continue(ctx context.Context, contributor, battleID, content string, sink Sink) error {
	if err := a.checkPrompt(content); err != nil {
		return err
	}
	bt := a.lookup(contributor, battleID)
	if bt == nil {
		return errNoBattle
	}
	bt.mu.Lock()
	switch {
	case bt.b.Status == rlhf.StatusAbandoned:
		bt.mu.Unlock()
		return errNoBattle
	case bt.vote != nil:
		bt.mu.Unlock()
		return rlhf.Errorf(rlhf.EConflict, "this battle has been voted on; start a new one")
	case bt.streaming:
		bt.mu.Unlock()
		return rlhf.Errorf(rlhf.ENotReady, "both answers must finish before the next message")
	case len(bt.b.Turns) >= a.cfg.MaxTurns:
		bt.mu.Unlock()
		return rlhf.Errorf(rlhf.ELimit, "a battle has at most %d turns; vote now", a.cfg.MaxTurns)
	case bt.models[0] == nil || bt.models[1] == nil:
		bt.mu.Unlock()
		return rlhf.Errorf(rlhf.EUnavailable, "a model of this battle is no longer served; vote now or start a new battle")
	}
	victims, err := a.admitTurn(bt, int64(len(content)))
	if err != nil {
		bt.mu.Unlock()
		return err
	}
	now := a.cfg.Now()
	turn := len(bt.b.Turns)
	bt.b.Turns = append(bt.b.Turns, rlhf.Turn{Index: turn, Prompt: content, At: now})
	bt.b.Status, bt.b.UpdatedAt, bt.streaming = rlhf.StatusStreaming, now, true
	bt.mu.Unlock()
	a.abandon(ctx, victims)
	sink(Frame{Type: FrameTurn, BattleID: battleID, Turn: intp(turn)})
	go a.streamTurn(ctx, bt, turn, sink)
	return nil
}

// admitTurn counts a new turn of bt, with a prompt of extra bytes, against
// the caps on streaming and pending battles, and returns the battles to
// abandon to make room. bt.mu must be held.
func (a *Arena) admitTurn(bt *battle, extra int64) ([]*battle, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closed:
		return nil, rlhf.Errorf(rlhf.EUnavailable, "the server is shutting down")
	case bt.gone:
		return nil, errNoBattle
	case a.streaming[bt.owner] >= a.cfg.MaxBattlesPerContributor:
		return nil, rlhf.Errorf(rlhf.ELimit, "at most %d battles may stream at once; wait for one to finish", a.cfg.MaxBattlesPerContributor)
	}
	victims, err := a.makeRoom(bt.owner, false, extra, bt)
	if err != nil {
		return nil, err
	}
	bt.busy, bt.size = true, bt.size+extra
	a.streaming[bt.owner]++
	a.wg.Add(1)
	return victims, nil
}

// Restore takes back a battle that was waiting for its vote when the last
// run stopped, so that its contributor can still vote on it, and continue
// it while both its models are still served. The server calls it at start,
// with the battles the store has kept (see AbandonStale and ReadyBattles).
// The battle's vote window runs from its last update.
//
// Restored battles count against the contributor's pending caps like any
// other: restore them oldest first, and the oldest beyond the caps are
// abandoned.
func (a *Arena) Restore(ctx context.Context, b *rlhf.Battle) error {
	if b.Status != rlhf.StatusReady || len(b.Turns) == 0 {
		return fmt.Errorf("restore battle %s: status %q with %d turns is not waiting for a vote", b.ID, b.Status, len(b.Turns))
	}
	a.mu.Lock()
	if _, ok := a.battles[b.ID]; ok {
		a.mu.Unlock()
		return fmt.Errorf("restore battle %s: it is already running", b.ID)
	}
	bt := &battle{
		id:     b.ID,
		owner:  b.ContributorID,
		models: [2]Model{a.models[b.ModelA], a.models[b.ModelB]}, // nil if no longer served
		b:      *b,
		doneAt: b.UpdatedAt,
		size:   pendingSize(b),
	}
	a.battles[b.ID] = bt
	a.addPending(bt)
	victims, _ := a.makeRoom(bt.owner, false, 0, nil) // none streams: room is always made
	a.mu.Unlock()
	a.abandon(ctx, victims)
	return nil
}

// VoteResult is the answer to a committed vote: the vote and the reveal,
// and the log's receipt when there is a log.
type VoteResult struct {
	Vote           rlhf.Vote
	ModelA, ModelB string
	Answers        []AnswerStats // each answer's measures, revealed with the models
	Receipt        *rlhf.Receipt // the verifiable log's receipt, when there is a log
	Points         *int          // the points the vote earned, when the server gives points
}

func voteResult(b *rlhf.Battle, v *rlhf.Vote) *VoteResult {
	return &VoteResult{Vote: *v, ModelA: b.ModelA, ModelB: b.ModelB, Answers: answerStats(b)}
}

// Vote records the contributor's verdict on their battle. It returns only
// after the vote is durably committed. Voting again with the same verdict
// returns the original vote; a different verdict is a conflict.
func (a *Arena) Vote(ctx context.Context, contributor string, req Request) (*VoteResult, error) {
	v := rlhf.Vote{
		ID: newID(), BattleID: req.BattleID, ContributorID: contributor,
		Winner: req.Winner, Strength: req.Strength, Reason: req.Reason,
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	bt := a.lookup(contributor, req.BattleID)
	if bt == nil {
		return a.storedVote(ctx, &v)
	}
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if bt.b.Status == rlhf.StatusAbandoned {
		return nil, errNoBattle // abandoned to make room for newer battles
	}
	if prev := bt.vote; prev != nil {
		if prev.Winner == v.Winner && prev.Strength == v.Strength && prev.Reason == v.Reason {
			res := voteResult(&bt.b, prev)
			a.seal(ctx, res, &bt.b, prev)
			return res, nil
		}
		return nil, rlhf.Errorf(rlhf.EConflict, "this battle already has a different vote")
	}
	if bt.streaming {
		return nil, rlhf.Errorf(rlhf.ENotReady, "both answers must finish before you vote")
	}
	now := a.cfg.Now()
	v.CreatedAt = now
	if err := a.consent(ctx, &v); err != nil {
		return nil, err
	}
	// final shares bt.b's turns: bt.mu is held until bt.b is final, and no
	// turn of a voted battle changes (Continue refuses it), so the record
	// handed to OnVote may keep them. A failed vote leaves bt.b as it was.
	final := bt.b
	final.Status, final.UpdatedAt = rlhf.StatusVoted, now
	if a.cfg.Guard != nil {
		final.IdentityLeak = a.cfg.Guard.Leak(&final)
	}
	if err := a.cfg.Store.SaveVote(ctx, &final, &v); err != nil {
		return nil, storeError("record the vote", err)
	}
	bt.b, bt.vote, bt.doneAt = final, &v, now
	a.mu.Lock()
	a.dropPending(bt)
	a.mu.Unlock()
	if a.cfg.OnVote != nil {
		a.cfg.OnVote(&rlhf.Record{Battle: final, Vote: v})
	}
	res := voteResult(&final, &v)
	a.seal(ctx, res, &final, &v)
	return res, nil
}

// storedVote answers a vote on a battle that is not in memory: a retry of
// a vote that was committed, but whose answer was lost (the server stopped
// before sending it), gets the original answer from the store. Anything
// else is errNoBattle, as for a battle that does not exist.
func (a *Arena) storedVote(ctx context.Context, v *rlhf.Vote) (*VoteResult, error) {
	if a.cfg.Votes == nil {
		return nil, errNoBattle
	}
	prev, err := a.cfg.Votes.VoteForBattle(ctx, v.BattleID)
	switch {
	case rlhf.ErrorCode(err) == rlhf.ENotFound:
		return nil, errNoBattle
	case err != nil:
		return nil, storeError("look up the vote", err)
	case prev.ContributorID != v.ContributorID:
		return nil, errNoBattle
	case prev.Winner != v.Winner || prev.Strength != v.Strength || prev.Reason != v.Reason:
		return nil, rlhf.Errorf(rlhf.EConflict, "this battle already has a different vote")
	}
	b, err := a.cfg.Votes.Battle(ctx, v.BattleID)
	if err != nil {
		return nil, storeError("look up the vote", err)
	}
	res := voteResult(b, prev)
	a.seal(ctx, res, b, prev)
	return res, nil
}

// startPrompt returns the prompt of a start request, and the campaign
// prompt when the request names a campaign.
func (a *Arena) startPrompt(ctx context.Context, req Request) (string, *CampaignPrompt, error) {
	if req.Campaign == "" {
		return req.Prompt, nil, nil
	}
	if req.Prompt != "" {
		return "", nil, rlhf.Errorf(rlhf.EInvalid, "start takes a prompt or a campaign, not both")
	}
	if a.cfg.Campaigns == nil {
		return "", nil, rlhf.Errorf(rlhf.ENotFound, "no such campaign")
	}
	cp, err := a.cfg.Campaigns.Next(ctx, req.Campaign)
	if err != nil {
		return "", nil, err
	}
	return cp.Text, &cp, nil
}

// intersect returns the names in sorted that are also in some.
func intersect(sorted, some []string) []string {
	var out []string
	for _, n := range sorted {
		for _, m := range some {
			if n == m {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// errNoBattle is the one answer for a battle that does not exist, has
// expired, or belongs to someone else: the three are not told apart.
var errNoBattle = rlhf.Errorf(rlhf.ENotFound, "no such battle")

func (a *Arena) lookup(contributor, id string) *battle {
	a.mu.Lock()
	defer a.mu.Unlock()
	bt := a.battles[id]
	if bt == nil || bt.owner != contributor {
		return nil
	}
	return bt
}

func (a *Arena) checkPrompt(p string) error {
	switch {
	case len(p) == 0 || len(p) > a.cfg.MaxPromptBytes:
		return rlhf.Errorf(rlhf.EInvalid, "a message must have 1 to %d bytes; this one has %d", a.cfg.MaxPromptBytes, len(p))
	case !utf8.ValidString(p):
		return rlhf.Errorf(rlhf.EInvalid, "a message must be valid UTF-8")
	}
	return nil
}

// storeError keeps the store's own errors (conflict, unavailable) and hides
// the others behind a generic message.
func storeError(what string, err error) error {
	var e *rlhf.Error
	if errors.As(err, &e) {
		return err
	}
	return &rlhf.Error{Code: rlhf.EUnavailable, Message: "could not " + what + "; try again", Err: err}
}

// newID returns a UUID of version 7: the time in milliseconds, then 74
// random bits. Ids made close in time sort close together, so the store's
// indexes on battle and vote ids grow at their right edge instead of
// touching a random page for every vote.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	ms := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:36], b[10:16])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}

// Run expires battles whose vote window has passed, until ctx ends.
func (a *Arena) Run(ctx context.Context) error {
	tick := time.NewTicker(min(a.cfg.VoteWindow/4, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			a.expire(ctx)
		}
	}
}

// expire forgets battles finished longer than the vote window ago, and
// marks unvoted ones abandoned in the store.
func (a *Arena) expire(ctx context.Context) {
	cutoff := a.cfg.Now().Add(-a.cfg.VoteWindow)
	a.mu.Lock()
	all := make([]*battle, 0, len(a.battles))
	for _, bt := range a.battles {
		all = append(all, bt)
	}
	a.mu.Unlock()
	// Each battle's lock is taken alone: Continue holds a battle's lock
	// while it takes the arena's, so the arena's is never held around it.
	var old []*battle
	for _, bt := range all {
		bt.mu.Lock()
		if !bt.streaming && bt.doneAt.Before(cutoff) {
			old = append(old, bt)
		}
		bt.mu.Unlock()
	}
	var stale []*battle
	a.mu.Lock()
	for _, bt := range old {
		if a.battles[bt.id] != bt || bt.busy { // gone, or continued since
			continue
		}
		delete(a.battles, bt.id)
		a.dropPending(bt)
		stale = append(stale, bt)
	}
	a.mu.Unlock()
	a.abandon(ctx, stale) // those with a vote are only forgotten
}

// Close refuses new battles and waits for streaming ones to end; cancel
// their contexts first (the web package does, by closing connections).
func (a *Arena) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.wg.Wait()
}

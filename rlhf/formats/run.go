package formats

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/maphash"
	"math"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Stats says what an export read and wrote; the data card is made from it.
type Stats struct {
	Format  Format
	Records int // records read from the source
	Rows    int // rows written

	Filtered   map[string]int // records the choices left out, by reason
	Skipped    map[string]int // records that could not become rows in this format, by reason
	Duplicates int            // rows dropped as exact duplicates of earlier rows
	// Failed counts the records the choices kept whose battle failed (a
	// side's answer ended in an error; rlhf.Battle.Failed). They are never
	// exported as votes and are reported here, apart from Skipped.
	Failed int

	// The rest describes only the records that produced at least one row.
	Written   int                 // records that produced rows
	Winners   map[rlhf.Winner]int // vote mix
	Models    map[string]int      // battles per model
	Sources   map[string]int      // battles per source
	Languages map[string]int      // battles per language ("" when unknown)
	Detected  int                 // battles whose language was detected from the prompts
	// DetectedConfidence sums the detector's confidence over Detected.
	DetectedConfidence float64
	First              time.Time // earliest vote
	Last               time.Time // latest vote

	RandomKey bool // contributor pseudonyms used a random key, so they match no other export

	// Consent counts the rows by their vote's scope and licence (the
	// operator's, Options.Licence, for votes that record none).
	Consent map[ConsentKey]int
	// Redacted counts the personal data and secrets replaced in the
	// prompts, answers and reasons exported, by detector (redact.go).
	Redacted map[string]int
}

// ConsentKey is a vote's scope and licence, as the data card counts them.
type ConsentKey struct {
	Scope   rlhf.Scope
	Licence string
}

func newStats(f Format) Stats {
	return Stats{
		Format:    f,
		Filtered:  map[string]int{},
		Skipped:   map[string]int{},
		Winners:   map[rlhf.Winner]int{},
		Models:    map[string]int{},
		Sources:   map[string]int{},
		Languages: map[string]int{},
		Consent:   map[ConsentKey]int{},
		Redacted:  map[string]int{},
	}
}

// Skip reasons.
const (
	skipTie        = "tie (no pair)"
	skipBothBad    = "both bad (no pair)"
	skipMultiTurn  = "multi-turn (format holds one exchange)"
	skipNoText     = "no text (imported without conversations)"
	skipIdentical  = "identical answers"
	skipHHPrefix   = "multi-turn with different earlier answers (HH-RLHF needs a shared prefix)"
	skipHHMarkup   = "text holds HH-RLHF's own \"\\n\\nHuman:\" or \"\\n\\nAssistant:\" markers"
	progressPeriod = 4096
)

// Run filters the records of src with opts, turns each into the rows of
// format f and writes them to rw, closing rw at the end. On error the
// output is incomplete and rw is not closed: callers write to a temporary
// file and keep it only when Run succeeds.
func Run(ctx context.Context, rw RowWriter, f Format, opts Options, src rlhf.RecordSource) (Stats, error) {
	st := newStats(f)
	if err := opts.Validate(f); err != nil {
		return st, err
	}
	p, err := newPipeline(f, &opts, &st, rw)
	if err != nil {
		return st, err
	}
	defer p.close()
	err = src.Records(ctx, func(r *rlhf.Record) error {
		if err := p.record(r); err != nil {
			return err
		}
		if opts.Progress != nil && st.Records%progressPeriod == 0 {
			opts.Progress(st.Records, st.Rows)
		}
		return ctx.Err()
	})
	if err != nil {
		return st, fmt.Errorf("export %s after %d records: %w", f, st.Records, err)
	}
	if err := rw.Close(); err != nil {
		return st, fmt.Errorf("export %s: finish output: %w", f, err)
	}
	if opts.Progress != nil {
		opts.Progress(st.Records, st.Rows)
	}
	return st, nil
}

// pipeline holds the per-export state of Run.
type pipeline struct {
	f    Format
	opts *Options
	st   *Stats
	rw   RowWriter

	mac    hash.Hash // HMAC-SHA-256 for pseudonyms, nil when contributors are left out
	macSum []byte
	seen   *digestSet // digests of rows written, nil when duplicates are kept
	seed1  maphash.Seed
	seed2  maphash.Seed
	row    Row
	lang   Row // the record's language fields, copied into every row
	text   []byte
	convA  []rlhf.Message
	convB  []rlhf.Message

	redacted rlhf.Record // the record with personal data redacted (redact.go)
}

func newPipeline(f Format, opts *Options, st *Stats, rw RowWriter) (*pipeline, error) {
	p := &pipeline{f: f, opts: opts, st: st, rw: rw}
	if f.Shape() == ShapeBattle && opts.Contributors != ContributorsOmit {
		key := opts.Key
		if len(key) == 0 {
			key = make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return nil, fmt.Errorf("draw pseudonym key: %w", err)
			}
			st.RandomKey = true
		}
		p.mac = hmac.New(sha256.New, key)
	}
	if !opts.KeepDuplicates {
		p.seen = newDigestSet(opts.maxDigestSlots, opts.Spill)
		p.seed1, p.seed2 = maphash.MakeSeed(), maphash.MakeSeed()
	}
	return p, nil
}

// close frees what the pipeline holds outside memory.
func (p *pipeline) close() {
	if p.seen != nil {
		p.seen.close()
	}
}

// record turns one record into rows and writes them.
func (p *pipeline) record(r *rlhf.Record) error {
	p.st.Records++
	p.language(r)
	if reason := p.opts.filterReason(r, p.lang.Language); reason != "" {
		p.st.Filtered[reason]++
		return nil
	}
	if r.Failed() {
		p.st.Failed++
		return nil
	}
	if reason := trainingReason(r); reason != "" && p.f.Shape() != ShapeBattle {
		p.st.Filtered[reason]++
		return nil
	}
	if !p.opts.NoRedact {
		r = redactRecord(r, &p.redacted, p.st.Redacted)
	}
	b := &r.Battle
	written := 0
	switch p.f.Shape() {
	case ShapeBattle:
		p.row = Row{Shape: ShapeBattle, Record: r, Judge: p.pseudonym(r.Vote.ContributorID)}
		n, err := p.emit()
		if err != nil {
			return err
		}
		written += n
	case ShapePair, ShapeUnpaired:
		n, err := p.pairRows(r)
		if err != nil {
			return err
		}
		written += n
	}
	if written == 0 {
		return nil
	}
	if p.opts.Written != nil {
		p.opts.Written(r)
	}
	st := p.st
	st.Written++
	st.Winners[r.Vote.Winner]++
	st.Models[b.ModelA]++
	st.Models[b.ModelB]++
	st.Sources[b.Source]++
	st.Languages[p.lang.Language]++
	if p.lang.LanguageDetected {
		st.Detected++
		st.DetectedConfidence += p.lang.LanguageConfidence
	}
	t := r.Vote.CreatedAt
	if st.First.IsZero() || t.Before(st.First) {
		st.First = t
	}
	if t.After(st.Last) {
		st.Last = t
	}
	return nil
}

// pairRows writes the pair or unpaired rows of r and returns how many.
func (p *pipeline) pairRows(r *rlhf.Record) (int, error) {
	b := &r.Battle
	w := r.Vote.Winner
	if p.f.Shape() == ShapePair || p.opts.Ties != TiesUnpaired {
		switch w {
		case rlhf.WinnerTie:
			p.st.Skipped[skipTie]++
			return 0, nil
		case rlhf.WinnerBothBad:
			p.st.Skipped[skipBothBad]++
			return 0, nil
		}
	}
	for i := range b.Turns {
		t := &b.Turns[i]
		if t.Prompt == "" || t.A.Content == "" || t.B.Content == "" {
			p.st.Skipped[skipNoText]++
			return 0, nil
		}
	}
	p.convA = appendConversation(p.convA[:0], b, rlhf.SideA)
	p.convB = appendConversation(p.convB[:0], b, rlhf.SideB)
	k := divergence(b)
	if k < 0 {
		p.st.Skipped[skipIdentical]++
		return 0, nil
	}
	cut := 2*k + 1 // shared turns, then the user message of turn k
	if p.f.singleExchange() && (cut != 1 || len(b.Turns) != 1) {
		p.st.Skipped[skipMultiTurn]++
		return 0, nil
	}
	if p.f == HHRLHF && k != len(b.Turns)-1 {
		// HH-RLHF's chosen and rejected share everything up to the last
		// "\n\nAssistant:"; a battle whose sides differ before the last
		// answer cannot be written so.
		p.st.Skipped[skipHHPrefix]++
		return 0, nil
	}
	if p.f == HHRLHF && hasHHMarkup(b) {
		p.st.Skipped[skipHHMarkup]++
		return 0, nil
	}
	prompt, contA, contB := p.convA[:cut], p.convA[cut:], p.convB[cut:]
	if p.f.Shape() == ShapeUnpaired {
		labelA, labelB := true, false
		switch w {
		case rlhf.WinnerB:
			labelA, labelB = false, true
		case rlhf.WinnerTie:
			labelB = true
		case rlhf.WinnerBothBad:
			labelA = false
		}
		p.row = Row{Shape: ShapeUnpaired, Record: r, Prompt: prompt, Completion: contA, Label: labelA}
		n1, err := p.emit()
		if err != nil {
			return n1, err
		}
		p.row = Row{Shape: ShapeUnpaired, Record: r, Prompt: prompt, Completion: contB, Label: labelB}
		n2, err := p.emit()
		return n1 + n2, err
	}
	chosen, rejected := contA, contB
	if w == rlhf.WinnerB {
		chosen, rejected = contB, contA
	}
	p.row = Row{Shape: ShapePair, Record: r, Prompt: prompt, Chosen: chosen, Rejected: rejected}
	if p.opts.Margin {
		// A vote without a strength gets margin 0, TRL's "negligibly
		// better or unsure": the column is always a number.
		p.row.Margin, _ = r.Vote.Strength.Margin()
		p.row.HasMargin = true
	}
	return p.emit()
}

// language sets p.lang to r's stored language, or the one the detector
// finds in its prompts.
func (p *pipeline) language(r *rlhf.Record) {
	b := &r.Battle
	p.lang = Row{Language: b.Language}
	if b.Language != "" || p.opts.Detector == nil {
		return
	}
	p.text = p.text[:0]
	for i := range b.Turns {
		if len(p.text) >= maxDetectBytes {
			break
		}
		p.text = append(append(p.text, b.Turns[i].Prompt...), '\n')
	}
	lang, conf := p.opts.Detector.DetectLanguage(string(p.text))
	p.lang = Row{Language: lang, LanguageConfidence: conf, LanguageDetected: true}
}

// maxDetectBytes is about how much prompt text is handed to the detector
// (which looks at its first 512 bytes).
const maxDetectBytes = 512

// emit writes p.row unless it duplicates an earlier row.
func (p *pipeline) emit() (int, error) {
	p.row.Language, p.row.LanguageConfidence, p.row.LanguageDetected = p.lang.Language, p.lang.LanguageConfidence, p.lang.LanguageDetected
	if p.seen != nil {
		isNew, err := p.seen.add(p.digest(&p.row))
		if err != nil {
			return 0, err
		}
		if !isNew {
			p.st.Duplicates++
			return 0, nil
		}
	}
	if err := p.rw.WriteRow(&p.row); err != nil {
		return 0, fmt.Errorf("write row for battle %s: %w", p.row.Record.Battle.ID, err)
	}
	p.st.Rows++
	v := &p.row.Record.Vote
	p.st.Consent[ConsentKey{v.Scope.Effective(), or(v.Licence, p.opts.Licence)}]++
	return 1, nil
}

// digest returns a 128-bit hash of what the row shows. Two seeded maphashes
// are fast and collide with negligible probability within one export.
func (p *pipeline) digest(r *Row) [16]byte {
	var h1, h2 maphash.Hash
	h1.SetSeed(p.seed1)
	h2.SetSeed(p.seed2)
	addInt := func(v uint64) {
		var n [8]byte
		for i := range n {
			n[i] = byte(v >> (8 * i))
		}
		h1.Write(n[:])
		h2.Write(n[:])
	}
	add := func(s string) {
		addInt(uint64(len(s)))
		h1.WriteString(s)
		h2.WriteString(s)
	}
	addMsgs := func(msgs []rlhf.Message) {
		addInt(uint64(len(msgs)))
		for _, m := range msgs {
			add(m.Role)
			add(m.Content)
		}
	}
	switch r.Shape {
	case ShapePair:
		addMsgs(r.Prompt)
		addMsgs(r.Chosen)
		addMsgs(r.Rejected)
		if r.HasMargin {
			addInt(math.Float64bits(r.Margin))
		}
	case ShapeUnpaired:
		addMsgs(r.Prompt)
		addMsgs(r.Completion)
		if r.Label {
			addInt(1)
		} else {
			addInt(0)
		}
	case ShapeBattle:
		b, v := &r.Record.Battle, &r.Record.Vote
		add(b.ID)
		add(b.ModelA)
		add(b.ModelB)
		add(string(v.Winner))
		add(r.Judge)
		add(r.Language)
		addInt(uint64(v.CreatedAt.UnixNano()))
		for i := range b.Turns {
			t := &b.Turns[i]
			add(t.Prompt)
			add(t.A.Content)
			add(t.B.Content)
			addInt(uint64(t.A.Tokens))
			addInt(uint64(t.B.Tokens))
		}
	}
	var d [16]byte
	s1, s2 := h1.Sum64(), h2.Sum64()
	for i := 0; i < 8; i++ {
		d[i] = byte(s1 >> (8 * i))
		d[8+i] = byte(s2 >> (8 * i))
	}
	return d
}

// pseudonym returns the keyed pseudonym of a contributor id, or "" when
// contributors are left out or the id is unknown.
func (p *pipeline) pseudonym(id string) string {
	if p.mac == nil || id == "" {
		return ""
	}
	p.mac.Reset()
	p.mac.Write([]byte(id))
	p.macSum = p.mac.Sum(p.macSum[:0])
	return hex.EncodeToString(p.macSum[:16])
}

// Pseudonym returns the pseudonym an export under key gives contributor id:
// the first 16 bytes of HMAC-SHA-256(key, id), in hex.
func Pseudonym(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// appendConversation appends side s's conversation in b to msgs.
func appendConversation(msgs []rlhf.Message, b *rlhf.Battle, s rlhf.Side) []rlhf.Message {
	for i := range b.Turns {
		t := &b.Turns[i]
		msgs = append(msgs, rlhf.Message{Role: "user", Content: t.Prompt}, rlhf.Message{Role: "assistant", Content: t.Answer(s).Content})
	}
	return msgs
}

// divergence returns the first turn whose answers differ, or -1 when the
// two sides said the same thing throughout.
func divergence(b *rlhf.Battle) int {
	for i := range b.Turns {
		if b.Turns[i].A.Content != b.Turns[i].B.Content {
			return i
		}
	}
	return -1
}

// trainingReason says why a record is left out of training pairs, which
// have no place for its flag: a gold battle (one side degraded on purpose)
// or a quarantined contributor's vote. Battle rows keep both, flagged.
func trainingReason(r *rlhf.Record) string {
	switch {
	case r.Battle.IsGold():
		return "gold battle"
	case r.Quarantined:
		return "quarantined contributor"
	}
	return ""
}

package rlhf

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// CampaignStatus is where a campaign is in its life.
type CampaignStatus string

// Campaign statuses. A campaign is a draft until its lab starts it; a
// running campaign hands prompts to contributors who choose it; a paused
// one does not; a campaign is done once it has its target of votes.
const (
	CampaignDraft   CampaignStatus = "draft"
	CampaignRunning CampaignStatus = "running"
	CampaignPaused  CampaignStatus = "paused"
	CampaignDone    CampaignStatus = "done"
)

// Campaign is a lab's set of prompts, the models to compare on them, and
// how many votes the lab wants.
type Campaign struct {
	ID         string         `json:"id"` // random: knowing it is what lets a contributor choose the campaign
	Lab        string         `json:"lab"`
	Name       string         `json:"name"`
	Models     []string       `json:"models"` // at least two
	VoteTarget int            `json:"vote_target"`
	Status     CampaignStatus `json:"status"`
	Prompts    int            `json:"prompts"` // how many prompts it has
	Votes      int            `json:"votes"`   // votes on its battles so far
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// Validate checks the fields a lab sets.
func (c *Campaign) Validate() error {
	switch {
	case c.Name == "" || len(c.Name) > 200 || !utf8.ValidString(c.Name):
		return Errorf(EInvalid, "name is required: valid UTF-8 of at most 200 bytes")
	case len(c.Models) < 2 || len(c.Models) > 100:
		return Errorf(EInvalid, "a campaign needs 2 to 100 models; it has %d", len(c.Models))
	case c.VoteTarget < 1 || c.VoteTarget > 10_000_000:
		return Errorf(EInvalid, "vote_target must be 1 to 10000000")
	}
	seen := map[string]bool{}
	for _, m := range c.Models {
		if seen[m] {
			return Errorf(EInvalid, "model %q is listed twice", m)
		}
		seen[m] = true
	}
	return nil
}

// Prompt is one prompt of a campaign.
type Prompt struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Category string `json:"category,omitempty"`
	Language string `json:"language,omitempty"`
}

// CampaignProgress is how far a campaign has come.
type CampaignProgress struct {
	Campaign      string         `json:"campaign"`
	Status        CampaignStatus `json:"status"`
	VoteTarget    int            `json:"vote_target"`
	Votes         int            `json:"votes"`          // battles of the campaign with a vote
	Battles       int            `json:"battles"`        // battles started, voted or not
	Prompts       int            `json:"prompts"`        // prompts in the set
	PromptsServed int            `json:"prompts_served"` // prompts used at least once
	Pairs         []PairProgress `json:"pairs"`          // one per pair of models that met, sorted
}

// PairProgress counts a campaign's battles between two models; ModelA is
// the one that sorts first, whatever side each had.
type PairProgress struct {
	ModelA  string `json:"model_a"`
	ModelB  string `json:"model_b"`
	Battles int    `json:"battles"`
	Votes   int    `json:"votes"`
	WinsA   int    `json:"wins_a"`
	WinsB   int    `json:"wins_b"`
	Ties    int    `json:"ties"`
	BothBad int    `json:"both_bad"`
}

// PromptLimits bound a prompt set.
type PromptLimits struct {
	MaxPrompts     int // prompts in a set
	MaxPromptBytes int // bytes in one prompt's text
}

// ParsePrompts reads a prompt set in format "jsonl" (one object per line
// with "text" and optional "id", "category" and "language") or "csv" (a
// header row naming those columns, "text" required). Prompts without an id
// are numbered by their position ("1", "2", ...). Errors name the line.
func ParsePrompts(r io.Reader, format string, lim PromptLimits) ([]Prompt, error) {
	var (
		ps  []Prompt
		err error
	)
	switch format {
	case "jsonl":
		ps, err = parsePromptsJSONL(r, lim)
	case "csv":
		ps, err = parsePromptsCSV(r, lim)
	default:
		return nil, Errorf(EInvalid, "prompt format %q: want jsonl or csv", format)
	}
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, Errorf(EInvalid, "the prompt set is empty")
	}
	return ps, nil
}

// checkPrompt checks p, read at line, and numbers it n when it has no id.
func checkPrompt(p *Prompt, line, n int, seen map[string]bool, lim PromptLimits) error {
	if p.ID == "" {
		p.ID = fmt.Sprint(n)
	}
	switch {
	case n > lim.MaxPrompts:
		return Errorf(EInvalid, "line %d: a prompt set has at most %d prompts", line, lim.MaxPrompts)
	case strings.TrimSpace(p.Text) == "":
		return Errorf(EInvalid, "line %d: text is empty", line)
	case len(p.Text) > lim.MaxPromptBytes:
		return Errorf(EInvalid, "line %d: text has %d bytes; at most %d", line, len(p.Text), lim.MaxPromptBytes)
	case !utf8.ValidString(p.Text + p.ID + p.Category + p.Language):
		return Errorf(EInvalid, "line %d: not valid UTF-8", line)
	case len(p.ID) > 128 || len(p.Category) > 128 || len(p.Language) > 64:
		return Errorf(EInvalid, "line %d: id and category have at most 128 bytes, language 64", line)
	case seen[p.ID]:
		return Errorf(EInvalid, "line %d: id %q is used twice", line, p.ID)
	}
	seen[p.ID] = true
	return nil
}

func parsePromptsJSONL(r io.Reader, lim PromptLimits) ([]Prompt, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), lim.MaxPromptBytes*6+4096) // JSON escapes can grow text six-fold
	var ps []Prompt
	seen := map[string]bool{}
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var p Prompt
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, Errorf(EInvalid, "line %d: %v (want {\"text\": ..., \"id\", \"category\", \"language\"})", line, err)
		}
		if dec.More() {
			return nil, Errorf(EInvalid, "line %d: more than one JSON value", line)
		}
		if err := checkPrompt(&p, line, len(ps)+1, seen, lim); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, Errorf(EInvalid, "line %d: too long", len(ps)+1)
		}
		return nil, err
	}
	return ps, nil
}

func parsePromptsCSV(r io.Reader, lim PromptLimits) ([]Prompt, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, Errorf(EInvalid, "the prompt set is empty")
	}
	if err != nil {
		return nil, Errorf(EInvalid, "line 1: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "text", "id", "category", "language":
		default:
			return nil, Errorf(EInvalid, "line 1: unknown column %q (want text, and optionally id, category, language)", h)
		}
		if _, dup := col[h]; dup {
			return nil, Errorf(EInvalid, "line 1: column %q appears twice", h)
		}
		col[h] = i
	}
	if _, ok := col["text"]; !ok {
		return nil, Errorf(EInvalid, "line 1: no text column")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok {
			return rec[i]
		}
		return ""
	}
	var ps []Prompt
	seen := map[string]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return ps, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, Errorf(EInvalid, "line %d: %v", pe.Line, pe.Err)
			}
			return nil, err
		}
		p := Prompt{ID: get(rec, "id"), Text: get(rec, "text"), Category: get(rec, "category"), Language: get(rec, "language")}
		if err := checkPrompt(&p, line, len(ps)+1, seen, lim); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
}

package parquet

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// The import fixtures: a few hundred rows in the shape of each data set
// people import, written by this generator (go test ./rlhf/formats/parquet
// -run TestFixtures -update-fixtures) and checked against it on every run.
// Battles are drawn from known strengths, so that rating them can be
// checked.

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite rlhf/formats/testdata/import")

// FixtureDir holds the import fixtures.
const fixtureDir = "../testdata/import"

const fixtureRows = 300

// fixtureModels and their true strengths (log-odds), strongest first.
var fixtureModels = []string{"gpt-4o-2024-08-06", "claude-3-5-sonnet-20240620", "gemini-1.5-pro-002",
	"llama-3.1-405b-instruct", "qwen2.5-72b-instruct", "mistral-large-2407", "gemma-2-27b-it", "phi-3-mini-4k-instruct"}

var fixturePrompts = []struct{ lang, text string }{
	{"en", "Explain the difference between a process and a thread in operating systems."},
	{"en", "Write a short poem about the sea at night."},
	{"en", "What are the main causes of inflation, and how do central banks respond?"},
	{"en", "Give me three ideas for a birthday party for a ten-year-old who loves dinosaurs."},
	{"en", "How do I reverse a linked list in Python? Show the code."},
	{"en", "Summarize the plot of Pride and Prejudice in a few sentences."},
	{"en", "Why is the sky blue during the day and red at sunset?"},
	{"en", "Draft a polite email asking my landlord to fix the heating."},
	{"es", "¿Cuáles son los beneficios de aprender un segundo idioma desde pequeño?"},
	{"es", "Escribe una receta sencilla de tortilla de patatas para principiantes."},
	{"de", "Wie funktioniert eigentlich ein Kühlschrank? Erkläre es bitte einfach."},
	{"de", "Schreib mir eine kurze Geschichte über einen Fuchs, der nicht schlafen kann."},
	{"fr", "Quelles sont les principales différences entre le vin rouge et le vin blanc ?"},
	{"fr", "Peux-tu m'aider à rédiger une lettre de motivation pour un stage ?"},
	{"zh", "请解释一下量子计算的基本原理，并举一个简单的例子。"},
	{"ru", "Какие книги ты посоветуешь прочитать, чтобы лучше понять историю России?"},
	{"ja", "日本の四季について、それぞれの季節の特徴を教えてください。"},
	{"pt", "Quais são as melhores práticas para economizar dinheiro todos os meses?"},
}

var answerOpeners = []string{"Sure! ", "Here is an answer. ", "", "Great question. ", "In short: "}

// fixtureGen draws battles among fixtureModels from their strengths.
type fixtureGen struct {
	rng *rand.Rand
	n   int
}

func newFixtureGen(seed uint64) *fixtureGen {
	return &fixtureGen{rng: rand.New(rand.NewPCG(seed, seed^0xa5a5a5a5))}
}

// battle is one drawn comparison.
type fixtureBattle struct {
	id, session        string
	modelA, modelB     string
	winner             string // model_a, model_b, tie, both_bad
	lang               string
	prompts, ansA, ans []string // per turn; ans is side b
	at                 time.Time
}

func (g *fixtureGen) next(maxTurns int) fixtureBattle {
	g.n++
	i := g.rng.IntN(len(fixtureModels))
	j := (i + 1 + g.rng.IntN(len(fixtureModels)-1)) % len(fixtureModels)
	p := 1 / (1 + math.Exp(-0.45*float64(j-i))) // i < j: i is stronger
	b := fixtureBattle{
		id: fixtureID("b", g.n), session: fixtureID("s", g.n/2), modelA: fixtureModels[i], modelB: fixtureModels[j],
		at: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.n)*17*time.Minute + time.Duration(g.rng.IntN(1000))*time.Millisecond),
	}
	switch u := g.rng.Float64(); {
	case u < 0.12:
		b.winner = "tie"
	case u < 0.17:
		b.winner = "both_bad"
	case u < 0.17+0.83*p:
		b.winner = "model_a"
	default:
		b.winner = "model_b"
	}
	turns := 1 + g.rng.IntN(maxTurns)
	first := fixturePrompts[g.rng.IntN(len(fixturePrompts))]
	b.lang = first.lang
	for k := 0; k < turns; k++ {
		prompt := first.text
		if k > 0 {
			prompt = fixturePrompts[g.rng.IntN(len(fixturePrompts))].text
		}
		b.prompts = append(b.prompts, prompt)
		b.ansA = append(b.ansA, g.answer(b.modelA, prompt))
		b.ans = append(b.ans, g.answer(b.modelB, prompt))
	}
	return b
}

func (g *fixtureGen) answer(model, prompt string) string {
	s := answerOpeners[g.rng.IntN(len(answerOpeners))]
	switch g.rng.IntN(3) {
	case 0:
		s += "**Key points**\n\n1. " + strings.SplitN(prompt, " ", 4)[0] + " matters.\n2. Context helps.\n"
	case 1:
		s += "## Answer\n\n- first, consider the basics\n- then, the details\n"
	default:
		s += "```python\nprint('hello')\n```\nThat is the idea."
	}
	return s + fmt.Sprintf(" (%d)", g.rng.IntN(1000))
}

func fixtureID(kind string, n int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s%d", kind, n)))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// TestFixtures regenerates the import fixtures and checks them against
// the committed files (or rewrites them with -update-fixtures).
func TestFixtures(t *testing.T) {
	files := map[string][]byte{
		"ultrafeedback_binarized.jsonl":   ultraFeedbackJSONL(t),
		"ultrafeedback_binarized.parquet": ultraFeedbackParquet(t),
		"arena_140k.jsonl":                arena140kJSONL(t),
		"arena_140k.parquet":              arena140kParquet(t),
		"kaggle_55k.csv":                  kaggle55kCSV(t),
	}
	for name, want := range files {
		path := filepath.Join(fixtureDir, name)
		if *updateFixtures {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (write the fixtures with -update-fixtures)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator writes (rewrite with -update-fixtures)", path)
		}
	}
}

// ufMessage is a message of ultrafeedback_binarized.
type ufMessage struct {
	Content string `json:"content" parquet:"content"`
	Role    string `json:"role" parquet:"role"`
}

// ufRow is a row of HuggingFaceH4/ultrafeedback_binarized as shipped.
type ufRow struct {
	Prompt        string      `json:"prompt" parquet:"prompt"`
	PromptID      string      `json:"prompt_id" parquet:"prompt_id"`
	Chosen        []ufMessage `json:"chosen" parquet:"chosen,list"`
	Rejected      []ufMessage `json:"rejected" parquet:"rejected,list"`
	Messages      []ufMessage `json:"messages" parquet:"messages,list"`
	ScoreChosen   float64     `json:"score_chosen" parquet:"score_chosen"`
	ScoreRejected float64     `json:"score_rejected" parquet:"score_rejected"`
}

func ultraFeedbackRows() []ufRow {
	g := newFixtureGen(1)
	rows := make([]ufRow, 0, fixtureRows)
	for range fixtureRows {
		b := g.next(1)
		win, lose := b.ansA, b.ans
		if b.winner == "model_b" {
			win, lose = lose, win
		}
		sc := float64(4 + g.rng.IntN(7))
		sr := sc - float64(1+g.rng.IntN(3))
		if b.winner == "tie" || b.winner == "both_bad" {
			sr = sc
		}
		user := ufMessage{Content: b.prompts[0], Role: "user"}
		chosen := []ufMessage{user, {Content: win[0], Role: "assistant"}}
		sum := sha256.Sum256([]byte(b.prompts[0] + b.id))
		rows = append(rows, ufRow{Prompt: b.prompts[0], PromptID: hex.EncodeToString(sum[:]), Chosen: chosen,
			Rejected: []ufMessage{user, {Content: lose[0], Role: "assistant"}}, Messages: chosen, ScoreChosen: sc, ScoreRejected: sr})
	}
	return rows
}

func jsonLines[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func parquetBytes[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pq.NewGenericWriter[T](&buf, pq.CreatedBy("agora-fixtures", "", ""), pq.Compression(&snappy.Codec{}))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ultraFeedbackJSONL(t *testing.T) []byte   { return jsonLines(t, ultraFeedbackRows()) }
func ultraFeedbackParquet(t *testing.T) []byte { return parquetBytes(t, ultraFeedbackRows()) }

// part is a content part of LMArena's 140k release.
type part struct {
	Type     string  `json:"type" parquet:"type"`
	Text     *string `json:"text" parquet:"text,optional"`
	Image    *string `json:"image" parquet:"image,optional"`
	MimeType *string `json:"mimeType" parquet:"mimeType,optional"`
}

type msg140 struct {
	Role      string `json:"role" parquet:"role"`
	Content   []part `json:"content" parquet:"content,list"`
	NumTokens *int32 `json:"num_tokens" parquet:"num_tokens,optional"`
}

// row140 is a row of lmarena-ai/arena-human-preference-140k (the fields
// an import reads, and a few it skips).
type row140 struct {
	ID                  string    `json:"id" parquet:"id"`
	ModelA              string    `json:"model_a" parquet:"model_a"`
	ModelB              string    `json:"model_b" parquet:"model_b"`
	Winner              string    `json:"winner" parquet:"winner"`
	EvaluationSessionID string    `json:"evaluation_session_id" parquet:"evaluation_session_id"`
	EvaluationOrder     int32     `json:"evaluation_order" parquet:"evaluation_order"`
	ConversationA       []msg140  `json:"conversation_a" parquet:"conversation_a,list"`
	ConversationB       []msg140  `json:"conversation_b" parquet:"conversation_b,list"`
	Language            string    `json:"language" parquet:"language"`
	IsCode              bool      `json:"is_code" parquet:"is_code"`
	Timestamp           time.Time `json:"-" parquet:"timestamp,timestamp(microsecond)"`
	TimestampMS         int64     `json:"timestamp" parquet:"-"` // pandas writes datetimes to JSON as epoch milliseconds
}

func arena140kRows() []row140 {
	g := newFixtureGen(2)
	rows := make([]row140, 0, fixtureRows)
	for range fixtureRows {
		b := g.next(2)
		r := row140{ID: b.id, ModelA: b.modelA, ModelB: b.modelB, Winner: b.winner, EvaluationSessionID: b.session,
			EvaluationOrder: 1, Language: b.lang, Timestamp: b.at.Truncate(time.Millisecond), TimestampMS: b.at.UnixMilli()}
		text := func(s string) []part { return []part{{Type: "text", Text: &s}} }
		for k := range b.prompts {
			r.IsCode = r.IsCode || strings.Contains(b.ansA[k]+b.ans[k], "```")
			na, nb := int32(len(b.ansA[k])/4), int32(len(b.ans[k])/4)
			r.ConversationA = append(r.ConversationA, msg140{Role: "user", Content: text(b.prompts[k])}, msg140{Role: "assistant", Content: text(b.ansA[k]), NumTokens: &na})
			r.ConversationB = append(r.ConversationB, msg140{Role: "user", Content: text(b.prompts[k])}, msg140{Role: "assistant", Content: text(b.ans[k]), NumTokens: &nb})
		}
		rows = append(rows, r)
	}
	return rows
}

func arena140kJSONL(t *testing.T) []byte   { return jsonLines(t, arena140kRows()) }
func arena140kParquet(t *testing.T) []byte { return parquetBytes(t, arena140kRows()) }

// kaggle55kCSV writes the train.csv of Kaggle's "LMSYS - Chatbot Arena
// Human Preference Predictions": prompts and responses as JSON lists of
// strings (null for a missing answer), the verdict as one-hot columns.
func kaggle55kCSV(t *testing.T) []byte {
	t.Helper()
	g := newFixtureGen(3)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"id", "model_a", "model_b", "prompt", "response_a", "response_b", "winner_model_a", "winner_model_b", "winner_tie"})
	list := func(xs []string) string {
		b, _ := json.Marshal(xs)
		return string(b)
	}
	for n := range fixtureRows {
		b := g.next(2)
		hot := [3]string{"0", "0", "0"}
		switch b.winner {
		case "model_a":
			hot[0] = "1"
		case "model_b":
			hot[1] = "1"
		default: // the 55k set has no both-bad verdict
			hot[2] = "1"
		}
		respB := list(b.ans)
		if n%50 == 7 { // a missing answer, as the 55k set has a few
			missing := make([]*string, len(b.ans))
			for k := 1; k < len(b.ans); k++ {
				missing[k] = &b.ans[k]
			}
			m, _ := json.Marshal(missing)
			respB = string(m)
		}
		w.Write([]string{fmt.Sprint(30192 + n*4517), b.modelA, b.modelB, list(b.prompts), list(b.ansA), respB, hot[0], hot[1], hot[2]})
	}
	w.Flush()
	return buf.Bytes()
}

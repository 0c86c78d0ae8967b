package arena

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestFrameAppendJSONEveryField sets each field of Frame in turn, then
// all of them, and checks AppendJSON against json.Marshal: a field added
// to Frame but not to AppendJSON fails here.
func TestFrameAppendJSONEveryField(t *testing.T) {
	all := Frame{}
	typ := reflect.TypeFor[Frame]()
	for i := range typ.NumField() {
		var f Frame
		for _, g := range []*Frame{&f, &all} {
			fillField(t, reflect.ValueOf(g).Elem().Field(i), typ.Field(i).Name)
		}
		checkFrameJSON(t, &f)
	}
	checkFrameJSON(t, &all)
	plain := all
	plain.Terms, plain.Receipt, plain.Points, plain.Answers = nil, nil, nil, nil
	checkFrameJSON(t, &plain)
	voted := plain
	voted.Receipt = &rlhf.Receipt{LeafIndex: -7, LeafHash: "a+b/=", Statement: "note\n<&>\u2028", Batch: 3, BatchProof: []string{"", "x\"y"}}
	voted.Points, voted.Answers = intp(-2), []AnswerStats{
		{Turn: 1, Side: rlhf.SideB, Tokens: -1, TTFTMillis: 1e-7, DurationMillis: 1e21},
		{Side: "\xff", TTFTMillis: -0.000001, DurationMillis: 123456789.125},
		{TTFTMillis: 5e-324, DurationMillis: -1.5e300},
	}
	checkFrameJSON(t, &voted)
	voted.Receipt.BatchProof = []string{}
	voted.Answers = append(voted.Answers, AnswerStats{TTFTMillis: math.NaN()})
	if _, err := voted.AppendJSON(nil); err == nil {
		t.Error("AppendJSON of a NaN measure: no error (json.Marshal refuses it)")
	}
	zero := 0
	checkFrameJSON(t, &Frame{Type: FrameDone, Turn: &zero, MaxTurns: -3, RetryAfterMS: -1})
	checkFrameJSON(t, &Frame{})
}

// fillField gives v, the struct field called name, a value that is not
// its zero value.
func fillField(t *testing.T, v reflect.Value, name string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(name + ` <&> "\ \n` + "\u2028\xff\x01é")
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(len(name)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	default:
		t.Fatalf("Frame.%s is a %s: teach fillField and AppendJSON about it", name, v.Kind())
	}
}

func checkFrameJSON(t *testing.T, f *Frame) {
	t.Helper()
	want, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.AppendJSON([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Errorf("AppendJSON(%+v)\n = %s\nwant prefix%s", f, got, want)
	}
}

// FuzzFrameAppendJSON checks that AppendJSON writes what json.Marshal
// writes for any text in a token or error frame.
func FuzzFrameAppendJSON(f *testing.F) {
	for _, seed := range []string{"", "hello", "<script>&amp;", "\"\\\n\t\x00\x1f", "\u2028\u2029", "\xff\xfe", "é😀", "\xed\xa0\x80"} {
		f.Add(seed, seed, 3)
	}
	f.Fuzz(func(t *testing.T, text, id string, turn int) {
		checkFrameJSON(t, &Frame{Type: FrameToken, BattleID: id, Side: rlhf.SideB, Text: text})
		checkFrameJSON(t, &Frame{Type: FrameError, Request: text, BattleID: id, Side: rlhf.Side(text), Turn: &turn,
			Code: id, Message: text, RetryAfterMS: int64(turn)})
	})
}

// FuzzVotedFrameAppendJSON checks that AppendJSON writes what json.Marshal
// writes for any measures, receipt and points of a vote's acknowledgement.
func FuzzVotedFrameAppendJSON(f *testing.F) {
	f.Add(0.0, 1.5, int64(3), "hash", "proof", -1)
	f.Add(1e-7, 1e21, int64(-1), "<&>", "\u2028\xff", 0)
	f.Add(-123.456, 0.000001, int64(0), "", "", 7)
	f.Fuzz(func(t *testing.T, ttft, duration float64, leaf int64, hash, proof string, points int) {
		fr := Frame{Type: FrameVoted, BattleID: hash, VoteID: proof, Winner: rlhf.WinnerA, Points: &points,
			Receipt: &rlhf.Receipt{LeafIndex: leaf, LeafHash: hash, Statement: proof, Batch: leaf, BatchProof: []string{proof, hash}},
			Answers: []AnswerStats{{Turn: points, Side: rlhf.Side(hash), Tokens: int(leaf), TTFTMillis: ttft, DurationMillis: duration}}}
		want, wantErr := json.Marshal(&fr)
		got, err := fr.AppendJSON(nil)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("AppendJSON error %v, json.Marshal error %v", err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Errorf("AppendJSON(%+v)\n = %s\nwant %s", fr, got, want)
		}
	})
}

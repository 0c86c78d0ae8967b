package formats

import (
	"bytes"
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// exportIDs exports testRecords as Arena battles and returns the ids.
func exportIDs(t *testing.T, opts Options) []string {
	t.Helper()
	recs := testRecords()
	recs[1].Battle.Category = "Coding"
	recs[4].Battle.Language = "Deutsch"
	var buf bytes.Buffer
	st, err := Export(context.Background(), &buf, string(ArenaJSONL), opts, SliceSource(recs))
	if err != nil {
		t.Fatalf("Export(%+v): %v", opts, err)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		id := strings.TrimPrefix(line, `{"question_id":"`)
		ids = append(ids, id[:strings.IndexByte(id, '"')])
	}
	if st.Rows != len(ids) {
		t.Errorf("Stats.Rows = %d, want %d", st.Rows, len(ids))
	}
	return ids
}

func TestFilters(t *testing.T) {
	all := []string{"b1", "b2", "b3", "b4", "b5", "b6", "llmfao:1", "b8"} // b7 failed
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"everything", Options{}, all},
		{"since", Options{Since: t0.Add(5 * time.Second)}, []string{"b6", "llmfao:1"}},
		{"until", Options{Until: t0.Add(2 * time.Second)}, []string{"b1", "b2", "b8"}},
		{"models", Options{Models: []string{"model-z"}}, []string{"b2"}},
		{"sources", Options{Sources: []string{"llmfao"}}, []string{"llmfao:1"}},
		{"language", Options{Languages: []string{"deutsch"}}, []string{"b5"}},
		{"category", Options{Categories: []string{"coding"}}, []string{"b2"}},
		{"min strength slight", Options{MinStrength: rlhf.StrengthSlight}, []string{"b1", "b5", "b6", "b8"}},
		{"min strength clear", Options{MinStrength: rlhf.StrengthClear}, []string{"b1", "b5", "b8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.KeepDuplicates = true
			if got := exportIDs(t, tc.opts); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	train := exportIDs(t, Options{Split: SplitTrain, TestFraction: 0.5, KeepDuplicates: true})
	test := exportIDs(t, Options{Split: SplitTest, TestFraction: 0.5, KeepDuplicates: true})
	all := exportIDs(t, Options{KeepDuplicates: true})
	both := append(append([]string{}, train...), test...)
	sort.Strings(both)
	sort.Strings(all)
	if !reflect.DeepEqual(both, all) {
		t.Errorf("train %v + test %v is not everything %v", train, test, all)
	}
	// Battles on the same first prompt (b5 and b6 both start with "Hi") land together.
	side := func(id string) bool {
		for _, x := range test {
			if x == id {
				return true
			}
		}
		return false
	}
	if side("b5") != side("b6") || side("b1") != side("b8") {
		t.Errorf("battles with the same prompt split apart: test = %v", test)
	}
	if len(train) == 0 || len(test) == 0 {
		t.Errorf("a 50%% split put everything on one side: train %v, test %v", train, test)
	}
	// The documented rule, recomputed.
	if got, want := InTestSplit("Hi", 0.5), side("b5"); got != want {
		t.Errorf("InTestSplit(Hi) = %v, but the export put b5 in test = %v", got, want)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		opts Options
	}{
		{TRL, Options{Ties: TiesUnpaired}},
		{TRL, Options{Ties: "sometimes"}},
		{TRL, Options{Contributors: "raw"}},
		{TRL, Options{Split: "dev"}},
		{TRL, Options{TestFraction: 1}},
		{TRL, Options{MinStrength: "huge"}},
		{TRL, Options{Since: t0, Until: t0}},
	} {
		if err := tc.opts.Validate(tc.f); err == nil || rlhf.ErrorCode(err) != rlhf.EInvalid {
			t.Errorf("Validate(%s, %+v) = %v, want an invalid error", tc.f, tc.opts, err)
		}
	}
	if _, err := Export(context.Background(), &bytes.Buffer{}, "yaml", Options{}, SliceSource(nil)); err == nil {
		t.Error("Export(yaml) succeeded")
	}
}

func TestPseudonyms(t *testing.T) {
	var b1, b2, b3 bytes.Buffer
	Export(context.Background(), &b1, string(ArenaJSONL), Options{Key: []byte("k1")}, SliceSource(testRecords()))
	Export(context.Background(), &b2, string(ArenaJSONL), Options{Key: []byte("k1")}, SliceSource(testRecords()))
	st, _ := Export(context.Background(), &b3, string(ArenaJSONL), Options{}, SliceSource(testRecords()))
	if b1.String() != b2.String() {
		t.Error("the same key gave different pseudonyms")
	}
	if b1.String() == b3.String() || !st.RandomKey {
		t.Errorf("no key: RandomKey = %v, and the output matched the keyed one", st.RandomKey)
	}
	if !strings.Contains(b1.String(), Pseudonym([]byte("k1"), "user-b1")) {
		t.Error("judge is not Pseudonym(key, contributor id)")
	}
}

package rlhf

import (
	"fmt"
	"strings"
	"testing"
)

var testLimits = PromptLimits{MaxPrompts: 3, MaxPromptBytes: 20}

func TestParsePrompts(t *testing.T) {
	tests := []struct {
		name, format, in string
		want             []Prompt
	}{
		{"jsonl", "jsonl", `{"text":"hello","category":"greet","language":"en"}` + "\n\n" + `{"id":"x","text":"bye"}`,
			[]Prompt{{ID: "1", Text: "hello", Category: "greet", Language: "en"}, {ID: "x", Text: "bye"}}},
		{"csv", "csv", "id,text,language\nq1,\"a, b\",fr\n,second,\n",
			[]Prompt{{ID: "q1", Text: "a, b", Language: "fr"}, {ID: "2", Text: "second"}}},
		{"csv bom and case", "csv", "\ufeffText\nhi\n", []Prompt{{ID: "1", Text: "hi"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrompts(strings.NewReader(tt.in), tt.format, testLimits)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ParsePrompts = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParsePromptsErrors(t *testing.T) {
	tests := []struct {
		name, format, in, want string
	}{
		{"unknown format", "xml", "", `"xml"`},
		{"empty", "jsonl", "\n\n", "empty"},
		{"bad json", "jsonl", `{"text":"a"}` + "\n{", "line 2"},
		{"unknown field", "jsonl", `{"text":"a","prompt":"b"}`, "line 1"},
		{"no text", "jsonl", `{"id":"a"}`, "line 1: text is empty"},
		{"too long", "jsonl", `{"text":"` + strings.Repeat("x", 21) + `"}`, "line 1: text has 21 bytes"},
		{"duplicate id", "jsonl", `{"id":"a","text":"x"}` + "\n" + `{"id":"a","text":"y"}`, `line 2: id "a" is used twice`},
		{"too many", "jsonl", strings.Repeat(`{"text":"x"}`+"\n", 4), "line 4: a prompt set has at most 3"},
		{"csv no text column", "csv", "id\n1\n", "no text column"},
		{"csv unknown column", "csv", "text,model\nx,y\n", `unknown column "model"`},
		{"csv wrong field count", "csv", "text,id\nx,1\ny\n", "line 3"},
		{"csv empty text", "csv", "text\nx\n \n", "line 3: text is empty"},
		{"csv bad utf8", "csv", "text\n\xff\n", "line 2: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePrompts(strings.NewReader(tt.in), tt.format, testLimits)
			if err == nil || !strings.Contains(err.Error(), tt.want) || ErrorCode(err) != EInvalid {
				t.Errorf("ParsePrompts(%q) = %v, want an invalid error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

package openai

import (
	"encoding/json"
	"reflect"
	"testing"
)

var chunkSeeds = []string{
	`{"choices":[{"index":0,"delta":{"content":"1700000000000 "}}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1694268190,"model":"m","system_fingerprint":null,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hé"},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
	`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`,
	`{"choices":[{"index":1,"delta":{"reasoning_content":"think"}},{"index":0,"delta":{"content":"a\nb \"q\""}}]}`,
	`{"Choices":[{"index":0,"delta":{"content":"x"}}]}`,
	`{"choices":[{"index":0,"delta":{"content":"x","content":"y"}}]}`,
	`{"choices":[{"index":1.0,"delta":{"content":"x"}}]}`,
	`{"choices":[{"index":-0,"delta":null,"finish_reason":"length"}], "x": [1, {"a": [true, false, null, "\"]"]}, -2.5e3]}`,
	`{"choices":[{"index":99999999999999999999}]}`,
	`{"choices":null} `, `null`, `[]`, `{"choices":[null]}`, `{"choices":{}}`, `{"choices":[{"delta":"x"}]}`,
	`{"choices":[{"finish_reason":7}]}`, `{"choices":[{"index":"0"}]}`, "{\"choices\":[{\"delta\":{\"content\":\"\xff\"}}]}",
	`{"choices":[{"index":0}]} x`, `{"choices":[{"index":0,}]}`, `{"ſhoices":[]}`, `{"choice\u0073":[]}`,
}

// TestDecodeChunkAgrees checks decodeChunk against json.Unmarshal on the
// chunks an endpoint sends and on ones the fast path must leave to it.
func TestDecodeChunkAgrees(t *testing.T) {
	for _, line := range chunkSeeds {
		checkChunk(t, line)
	}
	var c chunk
	if !plainChunk([]byte(chunkSeeds[1]), &c) || len(c.Choices) != 1 || c.Choices[0].Delta.Content != "Hé" {
		t.Errorf("plainChunk(an endpoint's usual chunk) = %+v: not read without reflection", c)
	}
}

// FuzzDecodeChunk checks that decodeChunk decodes what json.Unmarshal
// decodes, and fails where it fails.
func FuzzDecodeChunk(f *testing.F) {
	for _, line := range chunkSeeds {
		f.Add(line)
	}
	f.Fuzz(checkChunk)
}

func checkChunk(t *testing.T, line string) {
	var want, got chunk
	wantErr := json.Unmarshal([]byte(line), &want)
	err := decodeChunk([]byte(line), &got)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeChunk(%q) error %v, json.Unmarshal error %v", line, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeChunk(%q) = %+v, json.Unmarshal gives %+v", line, got, want)
	}
}

package demo

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// introduce is a demo model's answer to "who are you": like a real model,
// it names itself, so the arena's identity-leak guard is exercised end to
// end.
func (s *Server) introduce(id string) string {
	name := s.Names[id]
	if name == "" {
		name = id
	}
	return fmt.Sprintf("I am %s, one of Agora's built-in demo models (model id %q). Ask me anything else!", name, id)
}

// nameQuestions are phrases of a question about who the model is, matched
// on whole words. The list is the demo's own, deliberately not the
// guard's, so that a probe the guard's prompt rules miss is still caught by
// the answer.
var nameQuestions = []string{
	"who are you", "who r u", "what are you", "your name", "are you called", "call you", "introduce yourself",
	"describe yourself", "identify yourself", "about yourself", "which model", "what model", "which ai", "what ai",
	"what llm", "which llm", "language model are you", "made you", "created you", "built you", "trained you",
	"developed you", "designed you", "programmed you", "your creator", "your creators", "your developer",
	"your developers", "your maker", "your version", "your architecture", "your model", "are you gpt",
	"are you chatgpt", "are you claude", "are you gemini", "are you llama", "are you a gpt", "are you based on",
	"company are you", "your identity", "which version", "what version", "your parameters", "your system prompt",
	"quién eres", "quien eres", "qué eres", "que modelo eres", "qué modelo eres", "bist du", "heißt du", "heisst du",
	"qui es tu", "t appelles tu", "chi sei", "ti chiami", "quem é você", "quem e voce", "кто ты", "тебя зовут",
	"какая ты модель", "你是", "你叫", "あなたは", "누구", "이름이",
}

// AsksName reports whether prompt asks the model who it is.
func AsksName(prompt string) bool {
	p := " " + strings.Join(strings.FieldsFunc(strings.ToLower(prompt), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ") + " "
	for _, q := range nameQuestions {
		if r, _ := utf8.DecodeRuneInString(q); r >= 0x3000 { // CJK: no spaces between words
			if strings.Contains(p, q) {
				return true
			}
		} else if strings.Contains(p, " "+q+" ") {
			return true
		}
	}
	return false
}

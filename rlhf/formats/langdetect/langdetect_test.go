package langdetect

import "testing"

// labelled are prompts of the kinds contributors write, with their
// language: questions, requests and instructions of one or two sentences.
var labelled = []struct{ lang, text string }{
	{"English", "Explain the difference between a process and a thread."},
	{"English", "Write a short poem about the sea at night."},
	{"English", "What are the main causes of inflation?"},
	{"English", "Can you help me plan a trip to Japan for two weeks?"},
	{"English", "Summarize this article in three bullet points, please."},
	{"English", "Why does my sourdough bread come out so dense?"},
	{"English", "Give me a recipe for a vegetarian lasagna."},
	{"English", "How do I center a div with CSS grid?"},
	{"Spanish", "¿Cuáles son los beneficios de aprender un segundo idioma?"},
	{"Spanish", "Escribe una receta sencilla de tortilla de patatas."},
	{"Spanish", "Necesito ayuda para escribir una carta a mi jefe."},
	{"Spanish", "¿Por qué el cielo es azul durante el día?"},
	{"German", "Wie funktioniert eigentlich ein Kühlschrank?"},
	{"German", "Schreib mir eine kurze Geschichte über einen Fuchs."},
	{"German", "Was sind die wichtigsten Ursachen für den Klimawandel?"},
	{"German", "Kannst du mir helfen, eine Bewerbung zu schreiben?"},
	{"French", "Quelles sont les différences entre le vin rouge et le vin blanc ?"},
	{"French", "Peux-tu m'aider à rédiger une lettre de motivation ?"},
	{"French", "Explique-moi comment fonctionne la photosynthèse."},
	{"French", "Pourquoi les chats ronronnent-ils quand on les caresse ?"},
	{"Portuguese", "Quais são as melhores práticas para economizar dinheiro?"},
	{"Portuguese", "Você pode me explicar como funciona a inteligência artificial?"},
	{"Italian", "Qual è la differenza tra un virus e un batterio?"},
	{"Italian", "Scrivi una breve poesia sulla primavera in città."},
	{"Russian", "Какие книги ты посоветуешь прочитать этим летом?"},
	{"Russian", "Объясни, пожалуйста, как работает блокчейн."},
	{"Ukrainian", "Як приготувати справжній український борщ удома?"},
	{"Polish", "Jakie są najlepsze sposoby na naukę programowania?"},
	{"Dutch", "Hoe kan ik mijn Nederlands het snelst verbeteren?"},
	{"Turkish", "Yapay zekanın gelecekte işleri nasıl değiştireceğini düşünüyorsun?"},
	{"Chinese", "请解释一下量子计算的基本原理。"},
	{"Chinese", "帮我写一封感谢信给我的老师。"},
	{"Japanese", "日本の四季について教えてください。"},
	{"Japanese", "このコードのバグを見つけてくれませんか？"},
	{"Korean", "한국의 전통 음식에 대해 알려주세요."},
	{"Arabic", "ما هي فوائد ممارسة الرياضة بانتظام؟"},
	{"Hindi", "कृपया मुझे भारत के इतिहास के बारे में बताइए।"},
	{"Vietnamese", "Bạn có thể giải thích trí tuệ nhân tạo là gì không?"},
}

// unplaceable are texts with no language to name: too short, numbers,
// code. Naming a language for them is a false positive.
var unplaceable = []string{"hi", "ok", "2+2", "42", "lol", "???", "x = y + 1", "for i in range(10): print(i)", "SELECT * FROM t;", "", "   ", "😀😀😀"}

// TestDetectLanguage measures the detector on labelled prompts and on
// texts without a language, and holds both figures to a floor.
func TestDetectLanguage(t *testing.T) {
	d := New()
	right, wrong := 0, 0
	for _, tc := range labelled {
		got, conf := d.DetectLanguage(tc.text)
		switch {
		case got == tc.lang:
			right++
		case got == Unknown:
			t.Logf("unknown (confidence %.2f) for %s %q", conf, tc.lang, tc.text)
		default:
			wrong++
			t.Logf("false positive: %s (confidence %.2f) for %s %q", got, conf, tc.lang, tc.text)
		}
	}
	named := 0
	for _, text := range unplaceable {
		if got, conf := d.DetectLanguage(text); got != Unknown {
			named++
			t.Logf("false positive: %s (confidence %.2f) for %q", got, conf, text)
		}
	}
	t.Logf("labelled prompts: %d/%d right, %d wrong language named; texts without a language: %d/%d named",
		right, len(labelled), wrong, named, len(unplaceable))
	// The floors are the figures measured when the detector was chosen
	// (32/38 right, 2 wrong, 1 of 12 named): trigrams are weak on a
	// single short sentence, which is why confidence is kept.
	if float64(right) < 0.8*float64(len(labelled)) {
		t.Errorf("%d of %d labelled prompts right, want at least 80%%", right, len(labelled))
	}
	if wrong > 3 || named > 1 {
		t.Errorf("%d wrong languages named on labelled prompts (want at most 3), %d on texts without one (want at most 1)", wrong, named)
	}
}

func TestISO6391(t *testing.T) {
	for name, want := range map[string]string{"English": "en", "Chinese": "zh", "German": "de", Unknown: "", "Klingon": ""} {
		if got := ISO6391(name); got != want {
			t.Errorf("ISO6391(%q) = %q, want %q", name, got, want)
		}
	}
}

// BenchmarkDetectLanguage is the detector's cost per exported battle for a
// prompt of about 500 bytes (exports detect once per battle stored without
// a language).
func BenchmarkDetectLanguage(b *testing.B) {
	d := New()
	text := ""
	for len(text) < 500 {
		text += labelled[len(text)%len(labelled)].text + " "
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		d.DetectLanguage(text)
	}
}

func BenchmarkDetectLanguageShort(b *testing.B) {
	d := New()
	text := labelled[0].text + " " + labelled[1].text
	for b.Loop() {
		d.DetectLanguage(text)
	}
}

package httpapi_test

import (
	"net/http"
	"testing"
)

// BenchmarkLabRequest measures an authenticated lab request end to end
// over loopback HTTP: the token's hash looked up in SQLite, then
// GET /api/v1/models.
func BenchmarkLabRequest(b *testing.B) {
	ls := newLabSetup(b)
	token := ls.account("labs", "acme")
	ls.model(token, "m1", "")
	req, _ := http.NewRequest("GET", ls.url+"/api/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestRoleRouteMatrix sends every route of the server a request as every
// role, and checks that exactly the roles the route declares get through:
// the others get 401 (no usable token) or 403 (a role the route does not
// admit).
func TestRoleRouteMatrix(t *testing.T) {
	ls := newLabSetup(t)
	labToken := ls.account("labs", "acme")
	researcherAccount := ls.account("researchers", "rita")
	ls.model(labToken, "m1", "")
	var camp struct{ Campaign rlhf.Campaign }
	ls.must(201, "POST", "/api/v1/campaigns", labToken, map[string]any{"name": "c", "models": []string{"acme/m1", "base-1"}, "vote_target": 5}, &camp)

	roles := []struct {
		name  string
		role  httpapi.Role
		token string
	}{
		{"contributor", httpapi.RoleContributor, ""},
		{"contributor with a bad token", httpapi.RoleContributor, "agora_not-a-real-token"},
		{"researcher account", httpapi.RoleResearcher, researcherAccount},
		{"configured researcher token", httpapi.RoleResearcher, researcherToken},
		{"lab", httpapi.RoleLab, labToken},
		{"admin", httpapi.RoleAdmin, adminToken},
		// Anyone is a contributor, the scraper too: it reaches the
		// public routes and /metrics, nothing else.
		{"metrics", httpapi.RoleMetrics | httpapi.RoleContributor, metricsToken},
	}
	params := strings.NewReplacer(":lab", "acme", ":model", "m1", ":id", camp.Campaign.ID, "*filepath", "style.css", "*path", "models")
	routes := ls.srv.Routes()
	if len(routes) < 40 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, rt := range routes {
		for _, r := range roles {
			path := params.Replace(rt.Path)
			if strings.HasPrefix(rt.Path, "/api/v1/labs/:id") {
				path = strings.Replace(rt.Path, ":id", "nobody", 1) // 404 past the check: nothing is disabled
			}
			if strings.HasPrefix(rt.Path, "/api/v1/researchers/:id") {
				path = strings.Replace(rt.Path, ":id", "nobody", 1)
			}
			method := rt.Method
			if method == "ANY" {
				method = "GET"
			}
			var body any
			switch method {
			case "POST", "PATCH", "PUT":
				body = "{}" // invalid for most: refused after the access check
			}
			status, data := ls.do(method, path, r.token, "application/json", body)
			allowed := rt.Access&r.role != 0
			refused := status == http.StatusUnauthorized || status == http.StatusForbidden
			if allowed == refused {
				t.Errorf("%s %s as %s = %d %s; declared %s, so want allowed=%v", method, path, r.name, status, data, rt.Access, allowed)
			}
			if refused && r.token == "" && status != http.StatusUnauthorized {
				t.Errorf("%s %s without a token = %d, want 401", method, path, status)
			}
			if refused && r.token != "" && !strings.Contains(r.name, "bad token") && status != http.StatusForbidden {
				t.Errorf("%s %s as %s = %d, want 403", method, path, r.name, status)
			}
		}
	}
}

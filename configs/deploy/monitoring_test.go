package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/cmd/agora/agoratest"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
)

// TestAlertRules checks the rules and the Prometheus configuration with
// promtool, and runs the rules' unit tests.
func TestAlertRules(t *testing.T) {
	promtool := needTool(t, "promtool")
	runTool(t, "prometheus", promtool, "check", "rules", "alerts.yml")
	runTool(t, "prometheus", promtool, "test", "rules", "alerts_test.yml")

	// check config insists that the token file exists: point it at one.
	dir := t.TempDir()
	cfg, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	token := writeFile(t, dir, "token", metricsToken)
	rules, _ := os.ReadFile("prometheus/alerts.yml")
	writeFile(t, dir, "alerts.yml", string(rules))
	cfgText := strings.Replace(string(cfg), "/etc/prometheus/agora-metrics-token", token, 1)
	if cfgText == string(cfg) {
		t.Fatal("prometheus.yml no longer reads the token from /etc/prometheus/agora-metrics-token")
	}
	writeFile(t, dir, "prometheus.yml", cfgText)
	runTool(t, dir, promtool, "check", "config", "prometheus.yml")
}

// panelQuery is one query of a dashboard panel.
type panelQuery struct {
	panel, ref string
	datasource string // the data source type
	expr       string // PromQL
	sql        string // ClickHouse SQL
}

// dashboardQueries reads every panel's queries from the Grafana dashboard,
// rows' panels included.
func dashboardQueries(t *testing.T) []panelQuery {
	t.Helper()
	type target struct {
		Datasource struct{ Type string } `json:"datasource"`
		RefID      string                `json:"refId"`
		Expr       string                `json:"expr"`
		RawSQL     string                `json:"rawSql"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Type    string   `json:"type"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var dash struct {
		UID    string  `json:"uid"`
		Panels []panel `json:"panels"`
	}
	data, err := os.ReadFile("grafana/agora.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("grafana/agora.json: %v", err)
	}
	var out []panelQuery
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				out = append(out, panelQuery{panel: p.Title, ref: tg.RefID, datasource: tg.Datasource.Type, expr: tg.Expr, sql: tg.RawSQL})
			}
		}
	}
	walk(dash.Panels)
	return out
}

// grafanaPromQL replaces the dashboard's variables with what Grafana
// would put there.
var grafanaPromQL = strings.NewReplacer("$__rate_interval", "1m", `"$instance"`, `".+"`)

// alertExprs returns the expressions of alerts.yml, by alert name.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var name string
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if v, ok := strings.CutPrefix(l, "- alert: "); ok {
			name = v
		}
		v, ok := strings.CutPrefix(l, "expr: ")
		if !ok {
			continue
		}
		if v == "|" { // a block: the lines indented deeper than "expr:"
			indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
			v = ""
			for i+1 < len(lines) && len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > indent {
				i++
				v += lines[i] + "\n"
			}
		}
		out[name] = strings.TrimSpace(v)
	}
	return out
}

// pricesYAML prices every demo model, so that cost metrics exist.
const pricesYAML = "usage:\n  prices:\n" +
	"    curt-1: {input_per_million: 1, output_per_million: 2}\n    verbose-2: {input_per_million: 1, output_per_million: 2}\n" +
	"    contrarian-3: {input_per_million: 1, output_per_million: 2}\n    helpful-4: {input_per_million: 1, output_per_million: 2}\n"

// metricRE finds the names of Agora's, Go's and the process's metrics in
// a query; "up" is Prometheus's own.
var metricRE = regexp.MustCompile(`\b(?:agora|go|process)_[A-Za-z0-9_:]*[A-Za-z0-9]`)

// TestMonitoringAgainstARealServer runs the static binary with ClickHouse
// and a metrics token, fights battles, scrapes /metrics, lints the scrape
// with promtool, and checks that every PromQL query of the dashboard and
// the alert rules names only metrics the scrape has and parses with
// promtool, and that every ClickHouse query of the dashboard runs on the
// real server and returns rows.
func TestMonitoringAgainstARealServer(t *testing.T) {
	promtool := needTool(t, "promtool")
	chClient := needTool(t, "clickhouse-client")
	ch := chtest.Start(t)
	chCfg := ch.NewConfig(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "agora.yaml", fmt.Sprintf("demo:\n  enabled: true\n  token_delay: 1ms\n"+pricesYAML+"clickhouse:\n  addrs: [%q]\n  database: %s\n  flush_interval: 20ms\n",
		chCfg.Addrs[0], chCfg.Database))
	base := startAgora(t, agoraBinary(t), []string{"AGORA_METRICS_TOKEN=" + metricsToken}, "--data", filepath.Join(dir, "data"), "--config", cfg)

	const votes = 3
	conn := dialArena(t, base)
	for i := range votes {
		if err := battle(conn, fmt.Sprintf("question %d", i), []string{"a", "b", "tie"}[i%3]); err != nil {
			t.Fatal(err)
		}
	}
	var scrape string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, body := agoratest.Get(t, base+"/metrics", metricsToken)
		if status != 200 {
			t.Fatalf("GET /metrics with the metrics token = %d %s", status, body)
		}
		scrape = body
		if regexp.MustCompile(`(?m)^agora_clickhouse_shipped_votes_total ` + strconv.Itoa(votes) + `$`).MatchString(body) {
			break
		}
	}
	if !strings.Contains(scrape, "\nagora_clickhouse_shipped_votes_total "+strconv.Itoa(votes)+"\n") {
		t.Fatalf("the votes did not reach ClickHouse; last scrape:\n%s", scrape)
	}
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = strings.NewReader(scrape)
	if out, err := lint.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics on a real scrape: %v\n%s", err, out)
	}
	names := metricNames(scrape)

	var promQL []panelQuery
	for name, expr := range alertExprs(t) {
		promQL = append(promQL, panelQuery{panel: "alert " + name, ref: "A", expr: expr})
	}
	if len(promQL) < 8 {
		t.Fatalf("read only %d alert rules from alerts.yml", len(promQL))
	}
	var sqlQueries int
	for _, q := range dashboardQueries(t) {
		switch q.datasource {
		case "prometheus":
			promQL = append(promQL, q)
		case "grafana-clickhouse-datasource":
			sqlQueries++
			checkClickHouseQuery(t, chClient, ch.Addr, chCfg.Database, q)
		default:
			t.Errorf("panel %q: data source %q is neither prometheus nor grafana-clickhouse-datasource", q.panel, q.datasource)
		}
	}
	if sqlQueries < 3 {
		t.Errorf("the dashboard has %d ClickHouse queries, want some", sqlQueries)
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: queries\n    rules:\n")
	for i, q := range promQL {
		used := metricRE.FindAllString(q.expr, -1)
		if len(used) == 0 && !strings.Contains(q.expr, "up{") {
			t.Errorf("%s %s: %q names no metric", q.panel, q.ref, q.expr)
		}
		for _, m := range used {
			if !names[m] {
				t.Errorf("%s %s: metric %s is not in a real scrape", q.panel, q.ref, m)
			}
		}
		quoted, _ := json.Marshal(grafanaPromQL.Replace(q.expr)) // a JSON string is a YAML string
		fmt.Fprintf(&rules, "      - record: query:%d\n        expr: %s\n", i, quoted)
	}
	path := writeFile(t, dir, "queries.yml", rules.String())
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on every PromQL query: %v\n%s\n%s", err, out, rules.String())
	}
}

// checkClickHouseQuery runs a dashboard panel's SQL on the real server,
// with Grafana's time filter macro expanded as the plugin would (the last
// day), on the test's database, and wants rows back.
func checkClickHouseQuery(t *testing.T, client, addr, db string, q panelQuery) {
	t.Helper()
	sql := regexp.MustCompile(`\$__timeFilter\((\w+)\)`).ReplaceAllString(q.sql, "($1 >= now() - 86400 AND $1 <= now() + 60)")
	sql = regexp.MustCompile(`\bagora\.`).ReplaceAllString(sql, db+".")
	if strings.Contains(sql, "$") {
		t.Errorf("panel %q: a macro the test does not expand: %s", q.panel, sql)
		return
	}
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command(client, "--host", host, "--port", port, "--format", "TSV", "--query", sql).CombinedOutput()
	if err != nil {
		t.Errorf("panel %q: ClickHouse: %v\n%s\n%s", q.panel, err, out, sql)
		return
	}
	if len(strings.TrimSpace(string(out))) == 0 {
		t.Errorf("panel %q: no rows from ClickHouse for\n%s", q.panel, sql)
	}
}

// dialArena opens the contributor websocket and reads its hello.
func dialArena(t *testing.T, base string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/arena/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	var hello map[string]any
	if err := conn.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello: %v, %v", hello, err)
	}
	return conn
}

// battle runs one battle to its acknowledged vote.
func battle(conn *websocket.Conn, prompt, winner string) error {
	if err := conn.WriteJSON(map[string]any{"type": "start", "prompt": prompt}); err != nil {
		return err
	}
	var id string
	for {
		var f map[string]any
		if err := conn.ReadJSON(&f); err != nil {
			return err
		}
		switch f["type"] {
		case "battle":
			id, _ = f["battle_id"].(string)
		case "error":
			return fmt.Errorf("error frame %v", f)
		case "ready":
			if err := conn.WriteJSON(map[string]any{"type": "vote", "battle_id": id, "winner": winner}); err != nil {
				return err
			}
		case "voted":
			return nil
		}
	}
}

// TestComposeFiles checks what can be checked of compose.yaml without a
// container engine that runs containers: every file it mounts exists
// (besides the token and .env the operator writes), and the Grafana data
// sources it provisions are the ones the dashboard's panels name.
func TestComposeFiles(t *testing.T) {
	compose, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mounts := regexp.MustCompile(`(?m)^\s+- (\./[^:]+):`).FindAllStringSubmatch(string(compose), -1)
	if len(mounts) < 5 {
		t.Fatalf("compose.yaml mounts only %d files", len(mounts))
	}
	for _, m := range mounts {
		if m[1] == "./metrics-token" {
			continue
		}
		if _, err := os.Stat(m[1]); err != nil {
			t.Errorf("compose.yaml mounts %s: %v", m[1], err)
		}
	}
	ds, err := os.ReadFile("grafana/provisioning/datasources/agora.yaml")
	if err != nil {
		t.Fatal(err)
	}
	provisioned := map[string]string{} // uid -> type
	for _, m := range regexp.MustCompile(`uid: (\S+)\n\s+type: (\S+)`).FindAllStringSubmatch(string(ds), -1) {
		provisioned[m[1]] = m[2]
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct {
				Datasource struct{ Type, UID string }
			}
		}
	}
	data, _ := os.ReadFile("grafana/agora.json")
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			if provisioned[tg.Datasource.UID] != tg.Datasource.Type {
				t.Errorf("panel %q uses data source %s (%s); provisioned: %v", p.Title, tg.Datasource.UID, tg.Datasource.Type, provisioned)
			}
		}
	}
}

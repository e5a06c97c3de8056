package moltbot

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// testToken is configured as Gateway:Tokens:0 of the test server.
const testToken = "sdk-test-token-0123456789abcdef"

var listening = regexp.MustCompile(`Now listening on: (http://127\.0\.0\.1:\d+)`)

// moltBotServer is a real MoltBot process (the built moltbot.dll) on a free loopback port.
type moltBotServer struct {
	cmd     *exec.Cmd
	root    string
	log     *os.File
	exited  chan struct{}
	wsURL   string
	httpURL string
}

func repoRoot() string {
	if r := os.Getenv("MOLTBOT_REPO"); r != "" {
		return r
	}
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", "..", ".."))
}

func startServer() (*moltBotServer, error) {
	repo := repoRoot()
	dll := os.Getenv("MOLTBOT_DLL")
	if dll == "" {
		dll = filepath.Join(repo, "MoltBot", "bin", "Debug", "net10.0", "moltbot.dll")
	}
	if _, err := os.Stat(dll); err != nil {
		return nil, fmt.Errorf("%s not found (set MOLTBOT_REPO or MOLTBOT_DLL, build with dotnet build MoltBot): %v", dll, err)
	}
	root, err := os.MkdirTemp("", "moltbot-sdk-go-")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(root, "moltbot.log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("dotnet", dll, "--urls", "http://127.0.0.1:0",
		"--Storage:DataDirectory", filepath.Join(root, "data"), "--Models:Directory", filepath.Join(repo, "models"),
		"--Log:Console", "human", "--Gateway:Tokens:0", testToken,
		"--Gateway:MaxTextLength", "2000", "--Gateway:MaxFrameBytes", "16384",
		// Server pings every second and drops a client that does not answer within 2 s.
		"--Gateway:HeartbeatIntervalSeconds", "1", "--Gateway:HeartbeatTimeoutSeconds", "2")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = log, log // a file cannot fill up and block the host like a pipe
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s := &moltBotServer{cmd: cmd, root: root, log: log, exited: exited}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(readFile(logPath)); m != nil {
			s.httpURL = m[1]
			s.wsURL = strings.Replace(m[1], "http://", "ws://", 1) + "/ws"
			return s, nil
		}
		select {
		case <-exited:
			deadline = time.Now()
		case <-time.After(200 * time.Millisecond):
		}
	}
	text := readFile(logPath)
	s.stop()
	return nil, fmt.Errorf("MoltBot did not start:\n%s", tail(text, 4000))
}

func (s *moltBotServer) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt) // graceful: the host drains and exits
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	_ = s.log.Close()
	_ = os.RemoveAll(s.root)
}

// history reads the conversation through the HTTP API (independent of the WebSocket under test).
func (s *moltBotServer) history(conversation string) ([]map[string]any, error) {
	req, err := http.NewRequest("GET", s.httpURL+"/v1/conversations/"+conversation+"/messages?platform=web&limit=200", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Messages []map[string]any `json:"messages"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	return body.Messages, err
}

func readFile(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fmt.Fprintln(&b, sc.Text())
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

package httpapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/rlhf"
)

// client is one websocket connection: the handler goroutine reads, one
// writer goroutine writes, and frames pass between them through a bounded
// queue. A client whose queue fills up is slow and is dropped. A frame
// that finds nothing queued or being written is written at once by the
// goroutine that sends it, if the socket takes it without waiting
// (writeNow).
type client struct {
	s           *Server
	conn        *websocket.Conn
	net         *batchConn // conn's connection, which batches the writer's frames
	contributor string
	member      string        // the signed-in member, or ""
	memberSince time.Time     // when the member was created (account-age limits)
	addr        string        // the client's address, as limits count it (addrKey)
	wake        chan struct{} // signals the writer that frames are queued (capacity 1)
	done        chan struct{} // closed when the reader has stopped; the writer then closes
	ctx         context.Context
	cancel      context.CancelFunc // cancels the client's battles' streams

	stopping atomic.Bool // set by shutdown: read no more requests

	// wmu is held by whoever writes messages to conn: the writer while it
	// takes frames from the queue and writes them, or writeNow. Control
	// frames (ping, pong, close) may go out at any time.
	wmu sync.Mutex

	mu        sync.Mutex    // guards the fields below, and read deadlines against shutdown
	queue     []arena.Frame // frames for the writer; nil while idle, so idle clients cost little
	closeCode int           // the close code the writer sends
	slow      bool
}

// handleWebsocket upgrades the request and hands the connection to its
// own goroutines, which serve the protocol until the client leaves or the
// server shuts down. The handler returns at once, so that nothing of the
// HTTP request stays alive with an idle connection.
func (s *Server) handleWebsocket(c *gin.Context) error {
	addr := addrKey(s.cfg.TrustedProxies.clientAddr(c.Request))
	worked, err := s.proveWork(c.Request)
	if err != nil {
		return err
	}
	w, token, problem := s.identify(c.Request)
	if problem != nil && rlhf.ErrorCode(problem) != rlhf.EUnauthorized {
		return problem // the store cannot say who the client is: no connection rather than a wrong identity
	}
	contributor := w.contributor
	if err := s.conns.acquire(addr, contributor); err != nil {
		return err
	}
	var header http.Header
	if worked { // the page keeps the identity it earned
		header = http.Header{"Set-Cookie": {s.tokenCookie(c.Request, token).String()}}
	}
	hijacker := &batchHijacker{ResponseWriter: c.Writer}
	conn, err := s.upgrader.Upgrade(hijacker, c.Request, header)
	if err != nil {
		s.conns.release(addr, contributor)
		return nil // the upgrader has answered the client
	}
	ctx, cancel := context.WithCancel(context.Background())
	cl := &client{
		s: s, conn: conn, net: hijacker.conn, contributor: contributor, member: w.member, memberSince: w.memberSince, addr: addr,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		ctx: ctx, cancel: cancel, closeCode: websocket.CloseNormalClosure,
	}
	if !s.register(cl) {
		s.conns.release(addr, contributor)
		cancel()
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		conn.Close()
		return nil
	}
	if s.cfg.OnConnect != nil {
		s.cfg.OnConnect(contributor, addr, c.Request.UserAgent())
	}
	go cl.run(token, problem)
	return nil
}

// run serves the connection: it starts the writer, reads requests until
// the connection ends, then stops the writer and the client's streams.
func (cl *client) run(token string, problem error) {
	defer cl.s.conns.release(cl.addr, cl.contributor)
	defer cl.s.unregister(cl)
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); cl.writeLoop() }()
	if problem != nil {
		cl.sink(arena.ErrorFrame("", "", problem))
	}
	terms, err := cl.s.termsInfo(cl.ctx, cl.contributor)
	if err != nil {
		cl.s.log.Error("read the contributor's terms", "contributor", cl.contributor, "err", err)
	}
	cl.sink(arena.Frame{Type: arena.FrameHello, ContributorID: cl.contributor, Token: token,
		Protocol: arena.ProtocolVersion, MaxTurns: cl.s.cfg.Battles.MaxTurns(),
		Member: cl.member, AccountRequired: cl.s.cfg.RequireAccount, Terms: terms})
	cl.readLoop()
	cl.cancel() // end this client's streams
	close(cl.done)
	<-writerDone
	cl.conn.Close()
}

func (s *Server) register(cl *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.clients[cl] = struct{}{}
	s.clientWG.Add(1)
	return true
}

func (s *Server) unregister(cl *client) {
	s.mu.Lock()
	delete(s.clients, cl)
	s.mu.Unlock()
	s.clientWG.Done()
}

// readLoop handles the client's requests one at a time until the
// connection fails or is shut down.
func (cl *client) readLoop() {
	ws := cl.s.cfg.WS
	cl.conn.SetReadLimit(ws.ReadLimit)
	extended := time.Now()
	cl.conn.SetReadDeadline(extended.Add(ws.PongWait))
	cl.conn.SetPongHandler(func(string) error {
		cl.extendRead()
		return nil
	})
	for !cl.stopping.Load() {
		typ, buf, err := cl.readMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				cl.setClose(websocket.CloseMessageTooBig)
			}
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) &&
				!errors.Is(err, websocket.ErrReadLimit) {
				cl.s.log.Debug("websocket read", "contributor", cl.contributor, "err", err)
			}
			return
		}
		if typ != websocket.TextMessage {
			cl.s.cfg.Observer.WebsocketFrame("in", "invalid")
			cl.sink(arena.ErrorFrame("", "", rlhf.Errorf(rlhf.EInvalid, "frames must be JSON text")))
		} else {
			cl.handle(*buf) // keeps nothing of the frame's bytes
		}
		putReadBuf(buf)
		if now := time.Now(); now.Sub(extended) > ws.PongWait/64 {
			// Not at every frame: at thousands of frames a second,
			// moving the deadline costs more than the frames.
			extended = now
			cl.extendRead()
		}
	}
}

// handle serves one request. Errors go back to the client as error frames;
// the connection stays open.
func (cl *client) handle(data []byte) {
	req, err := arena.ParseRequest(data)
	if err != nil {
		cl.s.cfg.Observer.WebsocketFrame("in", "invalid")
		cl.sink(arena.ErrorFrame("", "", err))
		return
	}
	cl.s.cfg.Observer.WebsocketFrame("in", string(req.Type))
	b := cl.s.cfg.Battles
	if err := cl.needAccount(); err != nil {
		cl.sink(arena.ErrorFrame(req.Type, req.BattleID, err))
		return
	}
	switch req.Type {
	case arena.RequestStart:
		if req.BattleID != "" || req.Content != "" || req.Winner != "" || req.Strength != "" || req.Reason != "" || req.Version != "" {
			err = rlhf.Errorf(rlhf.EInvalid, "start takes only a prompt or a campaign")
			break
		}
		if err = cl.s.starts.allow(cl.contributor, cl.addr, cl.isNew()); err != nil {
			break
		}
		if err = cl.s.needTerms(cl.ctx, cl.contributor); err != nil {
			break
		}
		_, err = b.Start(cl.ctx, cl.contributor, *req, cl.sink)
	case arena.RequestMessage:
		if req.Prompt != "" || req.Campaign != "" || req.Winner != "" || req.Strength != "" || req.Reason != "" || req.Version != "" {
			err = rlhf.Errorf(rlhf.EInvalid, "message takes only battle_id and content")
			break
		}
		err = b.Continue(cl.ctx, cl.contributor, req.BattleID, req.Content, cl.sink)
	case arena.RequestAcceptTerms:
		if req.Prompt != "" || req.Campaign != "" || req.BattleID != "" || req.Content != "" || req.Winner != "" || req.Strength != "" || req.Reason != "" {
			err = rlhf.Errorf(rlhf.EInvalid, "accept_terms takes only a version")
			break
		}
		if err = cl.s.acceptTerms(cl.ctx, cl.contributor, req.Version); err == nil {
			cl.sink(arena.Frame{Type: arena.FrameTermsAccepted, Message: req.Version})
		}
	case arena.RequestVote:
		if req.Prompt != "" || req.Campaign != "" || req.Content != "" || req.Version != "" {
			err = rlhf.Errorf(rlhf.EInvalid, "vote takes only battle_id, winner, strength and reason")
			break
		}
		if err = cl.s.votes.allow(cl.contributor, cl.addr, cl.isNew()); err != nil {
			break
		}
		var res *arena.VoteResult
		res, err = b.Vote(cl.ctx, cl.contributor, *req)
		if err == nil {
			cl.sink(arena.Frame{Type: arena.FrameVoted, BattleID: req.BattleID, VoteID: res.Vote.ID,
				Winner: res.Vote.Winner, Strength: res.Vote.Strength, ModelA: res.ModelA, ModelB: res.ModelB,
				Answers: res.Answers, Receipt: res.Receipt, Points: res.Points})
		}
	}
	if req.Type == arena.RequestVote {
		cl.s.cfg.Observer.Vote(voteReason(err))
	}
	if err != nil {
		if rlhf.ErrorCode(err) == rlhf.EInternal || rlhf.ErrorCode(err) == rlhf.EUnavailable {
			cl.s.log.Error("websocket request failed", "type", req.Type, "contributor", cl.contributor, "err", err)
		}
		f := arena.ErrorFrame(req.Type, req.BattleID, err)
		f.RetryAfterMS = RetryAfter(err).Milliseconds()
		cl.sink(f)
	}
}

// sink sends a frame, or queues it for the writer. It never blocks: a client with
// SendQueue frames unsent is too slow to keep up and is dropped. A token
// that arrives while the previous token of the same side is still queued
// joins it, so a writer that falls behind sends fewer, larger frames.
func (cl *client) sink(f arena.Frame) {
	select {
	case <-cl.done:
		return
	default:
	}
	if cl.writeNow(&f) {
		return
	}
	cl.mu.Lock()
	if n := len(cl.queue); f.Type == arena.FrameToken && n > 0 {
		if last := &cl.queue[n-1]; last.Type == arena.FrameToken && last.BattleID == f.BattleID && last.Side == f.Side {
			last.Text += f.Text
			cl.mu.Unlock()
			return
		}
	}
	if len(cl.queue) >= cl.s.cfg.WS.SendQueue {
		first := !cl.slow
		cl.slow = true
		cl.mu.Unlock()
		if first {
			cl.s.log.Warn("dropping slow websocket client", "contributor", cl.contributor)
			cl.conn.NetConn().Close() // the reader fails, and all ends
		}
		return
	}
	if cl.queue == nil {
		cl.queue = (*queuePool.Get().(*[]arena.Frame))[:0]
	}
	cl.queue = append(cl.queue, f)
	cl.mu.Unlock()
	select {
	case cl.wake <- struct{}{}:
	default: // the writer is already woken
	}
}

// queuePool holds emptied queues: a frame is large, and a streaming
// client's queue would otherwise be allocated anew at almost every frame.
var queuePool = sync.Pool{New: func() any { return new([]arena.Frame) }}

// takeQueue returns the queued frames and empties the queue. Give the
// frames back with putQueue once they are written.
func (cl *client) takeQueue() []arena.Frame {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	q := cl.queue
	cl.queue = nil
	return q
}

// writeLoop writes queued frames and pings until the reader stops, then
// sends what is still queued and the close frame.
func (cl *client) writeLoop() {
	ws := cl.s.cfg.WS
	ping := time.NewTicker(ws.PingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-cl.wake:
			if !cl.writeQueued() {
				return
			}
		case <-ping.C:
			if err := cl.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(ws.WriteWait)); err != nil {
				cl.conn.NetConn().Close()
				return
			}
		case <-cl.done:
			if !cl.writeQueued() {
				return
			}
			cl.mu.Lock()
			code := cl.closeCode
			cl.mu.Unlock()
			msg := websocket.FormatCloseMessage(code, closeText[code])
			cl.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			return
		}
	}
}

// writeQueued writes the queued frames, and those queued meanwhile, until
// the queue is empty, gathering them into as few socket writes as it can.
// It reports false when the connection failed.
func (cl *client) writeQueued() bool {
	cl.wmu.Lock()
	defer cl.wmu.Unlock()
	buf := framePool.Get().(*[]byte)
	defer framePool.Put(buf)
	cl.net.gather()
	for q := cl.takeQueue(); len(q) > 0; q = cl.takeQueue() {
		ok := cl.writeFrames(q, buf)
		putQueue(q)
		if !ok {
			cl.net.discard()
			return false
		}
	}
	if cap(*buf) > maxBatch {
		*buf = nil
	}
	return cl.flush()
}

// writeFrames writes q, encoding each frame in buf, and writes the batch
// out whenever it is full.
func (cl *client) writeFrames(q []arena.Frame, buf *[]byte) bool {
	for i := range q {
		var ok bool
		if *buf, ok = cl.write(&q[i], (*buf)[:0]); !ok {
			return false
		}
		if cl.net.full() {
			if !cl.flush() {
				return false
			}
			cl.net.gather()
		}
	}
	return true
}

// flush writes the gathered frames.
func (cl *client) flush() bool {
	if err := cl.net.flush(cl.s.cfg.WS.WriteWait); err != nil {
		cl.conn.NetConn().Close()
		return false
	}
	return true
}

// putQueue gives back a queue that takeQueue returned.
func putQueue(q []arena.Frame) {
	if cap(q) > 256 {
		return // a burst's; let it go
	}
	clear(q)
	q = q[:0]
	queuePool.Put(&q)
}

// framePool holds buffers frames are encoded into.
var framePool = sync.Pool{New: func() any { return new([]byte) }}

// write encodes f into buf and writes it as one websocket message. It
// returns buf, to be used again, and false when the connection failed.
func (cl *client) write(f *arena.Frame, buf []byte) ([]byte, bool) {
	data, err := f.AppendJSON(buf)
	if err != nil {
		cl.s.log.Error("encode frame", "type", f.Type, "err", err)
		return data, true
	}
	cl.conn.SetWriteDeadline(time.Now().Add(cl.s.cfg.WS.WriteWait))
	if err := cl.conn.WriteMessage(websocket.TextMessage, data); err != nil {
		cl.conn.NetConn().Close()
		return data, false
	}
	cl.s.cfg.Observer.WebsocketFrame("out", f.Type)
	return data, true
}

var closeText = map[int]string{
	websocket.CloseNormalClosure: "",
	websocket.CloseGoingAway:     "server shutting down",
	websocket.CloseMessageTooBig: "frame too large",
}

func (cl *client) setClose(code int) {
	cl.mu.Lock()
	cl.closeCode = code
	cl.mu.Unlock()
}

// shutdown makes the reader stop after the request it is handling; the
// writer then sends 1001.
func (cl *client) shutdown() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.closeCode = websocket.CloseGoingAway
	cl.stopping.Store(true)
	cl.conn.SetReadDeadline(time.Now())
}

// extendRead gives the peer another PongWait, unless shutdown has begun.
func (cl *client) extendRead() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.stopping.Load() {
		cl.conn.SetReadDeadline(time.Now().Add(cl.s.cfg.WS.PongWait))
	}
}

// Command natsbench measures publish-to-subscribe throughput with the official Go client, so the
// broker is also measured against a compiled client that can outrun a Node.js one.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

type result struct {
	Messages  int64   `json:"messages"`
	Published int64   `json:"published"`
	Seconds   float64 `json:"seconds"`
	Rate      float64 `json:"rate"`
	TimedOut  bool    `json:"timedOut"`
}

func main() {
	url := flag.String("url", nats.DefaultURL, "server URL")
	messages := flag.Int64("msgs", 1_000_000, "messages to publish")
	size := flag.Int("size", 16, "payload size in bytes")
	timeout := flag.Duration("timeout", 10*time.Second, "give up after this long")
	flag.Parse()

	if err := run(*url, *messages, *size, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "natsbench:", err)
		os.Exit(1)
	}
}

func run(url string, messages int64, size int, timeout time.Duration) error {
	subscriber, err := nats.Connect(url, nats.Name("natsbench-sub"))
	if err != nil {
		return err
	}
	defer subscriber.Close()
	publisher, err := nats.Connect(url, nats.Name("natsbench-pub"))
	if err != nil {
		return err
	}
	defer publisher.Close()

	var received int64
	done := make(chan struct{})
	subscription, err := subscriber.Subscribe("natsbench.data", func(*nats.Msg) {
		if atomic.AddInt64(&received, 1) == messages {
			close(done)
		}
	})
	if err != nil {
		return err
	}
	// The client must not drop messages on its side: only the server is under test.
	if err := subscription.SetPendingLimits(-1, -1); err != nil {
		return err
	}
	if err := subscriber.Flush(); err != nil {
		return err
	}

	payload := make([]byte, size)
	deadline := time.Now().Add(timeout)
	started := time.Now()
	var published int64
	for published < messages && time.Now().Before(deadline) {
		// Check the clock once per batch, not per message.
		for batch := 0; batch < 1000 && published < messages; batch++ {
			if err := publisher.Publish("natsbench.data", payload); err != nil {
				return err
			}
			published++
		}
	}
	if err := publisher.FlushTimeout(time.Until(deadline) + time.Second); err != nil {
		return err
	}

	timedOut := false
	if published == messages {
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
			timedOut = true
		}
	} else {
		timedOut = true
	}
	elapsed := time.Since(started).Seconds()
	count := atomic.LoadInt64(&received)
	return json.NewEncoder(os.Stdout).Encode(result{
		Messages:  count,
		Published: published,
		Seconds:   elapsed,
		Rate:      float64(count) / elapsed,
		TimedOut:  timedOut,
	})
}

// Command chat is a command-line chat with MoltBot: MOLTBOT_URL=ws://HOST:PORT/ws MOLTBOT_TOKEN=... chat
package main

import (
	"bufio"
	"context"
	"fmt"
	"github.com/moltbot/moltbot-go/moltbot"
	"os"
	"strings"
)

func main() {
	ctx := context.Background()
	client, err := moltbot.Dial(ctx, os.Getenv("MOLTBOT_URL"), moltbot.Options{Token: os.Getenv("MOLTBOT_TOKEN")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "moltbot:", err, "(set MOLTBOT_URL and MOLTBOT_TOKEN)")
		os.Exit(1)
	}
	defer client.Close()
	for in := bufio.NewScanner(os.Stdin); in.Scan(); {
		reply, err := client.Send(ctx, strings.TrimSpace(in.Text()))
		var final *moltbot.FinalReply
		if err == nil {
			for delta := range reply.Deltas(ctx) { // streamed as the reply is produced
				fmt.Print(delta)
			}
			final, err = reply.Final(ctx)
		}
		switch {
		case err != nil:
			fmt.Println("moltbot:", err) // e.g. text_too_long: the chat goes on
		case len(reply.DeltasSoFar()) == 0:
			fmt.Println(final.Text)
		default:
			fmt.Println()
		}
	}
}

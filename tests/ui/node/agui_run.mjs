// Runs gai's AG-UI endpoint with @ag-ui/client's own HttpAgent, which parses the
// event stream, checks its order and applies it to the agent's messages and state.
// usage: node agui_run.mjs URL MESSAGES_JSON   (prints JSON)
import { HttpAgent } from "@ag-ui/client";

const [url, messagesJson] = process.argv.slice(2);
const agent = new HttpAgent({
  url,
  threadId: "thread-1",
  initialMessages: JSON.parse(messagesJson),
});
const types = [];
let error = null;
let result = null;
let runError = null;
try {
  result = await agent.runAgent(
    { runId: "run-1" },
    {
      onEvent: ({ event }) => { types.push(event.type); },
      onRunErrorEvent: ({ event }) => { runError = event.message; },
    },
  );
} catch (exc) {
  error = String(exc && exc.message ? exc.message : exc);
}
process.stdout.write(
  JSON.stringify({ messages: agent.messages, state: agent.state, result, types, error, runError }),
);

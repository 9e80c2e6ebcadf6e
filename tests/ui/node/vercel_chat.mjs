// Posts a chat to gai's endpoint with the AI SDK's own chat transport and rebuilds
// the assistant message with readUIMessageStream, as useChat does. Prints JSON.
// usage: node vercel_chat.mjs URL MESSAGES_JSON
import { DefaultChatTransport, readUIMessageStream } from "ai";

const [url, messagesJson] = process.argv.slice(2);
const messages = JSON.parse(messagesJson);
const transport = new DefaultChatTransport({ api: url });
const chunks = [];
const stream = await transport.sendMessages({
  chatId: "chat-1",
  messages,
  trigger: "submit-message",
  messageId: undefined,
  abortSignal: undefined,
});
const [forParts, forChunks] = stream.tee();
const reading = (async () => {
  const reader = forChunks.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.type);
  }
})();
let message;
const errors = [];
for await (const snapshot of readUIMessageStream({
  stream: forParts,
  onError: (error) => errors.push(String(error)),
})) {
  message = snapshot;
}
await reading;
process.stdout.write(JSON.stringify({ message, chunks, errors }));

"""The optional AI draft (`[assist]`): a reply written by an OpenAI-compatible model from the
post, its thread, the team's saved replies and a knowledge file, held to the tone check and
revised once when it fails it. It only ever fills the composer; a person sends.

facts (what the prompt may use, from the database) → prompt (the leads' template) →
model (the chat-completions client) → draft (the flow: tone check, one revision, audit,
figures) → routes (JSON and server-sent events)."""

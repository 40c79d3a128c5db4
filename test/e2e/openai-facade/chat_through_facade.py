"""Talks to the engine's OpenAI-compatible facade with OpenAI's official Python library.

Usage: python chat_through_facade.py <base_url> <api_key> <conversation_id> <foreign_conversation_id>
Prints one JSON object: an unstreamed and a streamed completion in the conversation, and what the
library raised for another tenant's conversation id.
"""
import json
import sys

import openai
from openai import OpenAI

base_url, api_key, conversation_id, foreign_id = sys.argv[1:5]
client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=300)
in_conversation = {"X-Conversation-Id": conversation_id}
question = "Do you ship to Canada?"

raw = client.chat.completions.with_raw_response.create(
    model="convo-engine",
    messages=[{"role": "user", "content": question}],
    extra_headers=in_conversation,
)
unstreamed = raw.parse()

follow_up = "How long does delivery take?"
stream = client.chat.completions.create(
    model="convo-engine",
    messages=[
        {"role": "user", "content": question},
        {"role": "assistant", "content": unstreamed.choices[0].message.content},
        {"role": "user", "content": follow_up},
    ],
    stream=True,
    stream_options={"include_usage": True},
    extra_headers=in_conversation,
)
deltas, finish_reason, usage, chunk_objects = [], None, None, set()
for chunk in stream:
    chunk_objects.add(chunk.object)
    if chunk.usage is not None:
        usage = chunk.usage.model_dump()
    for choice in chunk.choices:
        if choice.delta.content:
            deltas.append(choice.delta.content)
        if choice.finish_reason:
            finish_reason = choice.finish_reason

try:
    client.chat.completions.create(
        model="convo-engine",
        messages=[{"role": "user", "content": "hello"}],
        extra_headers={"X-Conversation-Id": foreign_id},
    )
    foreign = {"raised": None}
except openai.APIStatusError as error:
    foreign = {"raised": type(error).__name__, "status": error.status_code, "code": error.code}

print(
    json.dumps(
        {
            "unstreamed": {
                "conversation": raw.headers.get("x-conversation-id"),
                "object": unstreamed.object,
                "content": unstreamed.choices[0].message.content,
                "finish_reason": unstreamed.choices[0].finish_reason,
                "usage": unstreamed.usage.model_dump() if unstreamed.usage else None,
            },
            "streamed": {
                "deltas": deltas,
                "finish_reason": finish_reason,
                "usage": usage,
                "objects": sorted(chunk_objects),
            },
            "foreign": foreign,
        },
        ensure_ascii=False,
    )
)

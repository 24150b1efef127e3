"""Constant memory for conversations from JSON Lines: 10x the messages, about the same traced peak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.collect.imports.helpers import peak_bytes


def _messages_file(path: Path, prefix: str, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as file:
        for i in range(rows):
            row = {
                "conversation_id": f"{prefix}{i // 5}",
                "timestamp": f"{1 + i % 28:02d}/01/2026 10:{i % 60:02d}",
                "sender_type": "cliente" if i % 2 else "atendente",
                "agent_name": f"Agente {i % 7}",
                "contact_phone": f"11 9{(i // 5) % 10_000:04d}-{i // 50_000:04d}",
                "content": f"mensagem {i}",
            }
            file.write(json.dumps(row) + "\n")
    return path


@pytest.mark.slow
def test_peak_memory_does_not_scale_with_messages(sqlite_tenant_id: int, tmp_path: Path) -> None:
    peak_bytes("conversations", _messages_file(tmp_path / "warm.jsonl", "W", 1_000))
    small = peak_bytes("conversations", _messages_file(tmp_path / "small.jsonl", "S", 2_000))
    large = peak_bytes("conversations", _messages_file(tmp_path / "large.jsonl", "L", 20_000))
    print(f"traced peak: {small:,} B for 2,000 messages, {large:,} B for 20,000 messages")
    assert large < small * 1.5, f"peak {large:,} B for 20,000 messages vs {small:,} B for 2,000 messages"

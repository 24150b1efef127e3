from __future__ import annotations

from pulso.pipeline.silver.resolve import IdentityGraph, contact_node


def test_links_join_people_but_never_two_user_ids() -> None:
    graph = IdentityGraph()
    assert graph.link(("user_id", "u1"), ("anonymous_id", "a1"))
    assert graph.link(("anonymous_id", "a1"), ("email", "ana@x.com"))
    # a second user on the same device: refused, a1 stays with u1
    assert not graph.link(("user_id", "u2"), ("anonymous_id", "a1"))
    assert graph.find(("anonymous_id", "a1")) == graph.find(("user_id", "u1"))
    assert graph.find(("user_id", "u2")) != graph.find(("user_id", "u1"))
    assert len(graph.groups()) == 2


def test_existing_contacts_carry_their_user_ids() -> None:
    graph = IdentityGraph()
    graph.add(contact_node(1), {"u1"})
    graph.link(contact_node(1), ("user_id", "u1"))  # its stored identity
    graph.add(contact_node(2), set())
    graph.link(contact_node(2), ("anonymous_id", "a9"))
    assert graph.link(("user_id", "u1"), ("anonymous_id", "a9"))  # anonymous contact 2 joins u1's person
    assert not graph.link(contact_node(1), ("user_id", "u7"))  # contact 1 is u1: u7 is someone else
    groups = graph.groups()
    assert sorted(len(nodes) for nodes in groups.values()) == [1, 4]

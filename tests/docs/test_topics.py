"""The topical index of the API reference (docs/_ext/public_api.TOPICS, issue #21 item 6): every listed name is
public, none is listed twice, and every function and class of the user-facing packages is under a topic."""

from __future__ import annotations


def test_topics_list_public_names_once(public_api):
    public = {n.canonical for n in public_api.public_names()}
    listed = [f"ramplab.{name}" for _, _, names in public_api.TOPICS for name in names]
    assert not [n for n in listed if n not in public], "a topic lists a name that is not public"
    assert len(listed) == len(set(listed)), "a name listed under two topics"


def test_every_user_facing_function_and_class_has_a_topic(public_api):
    listed = {f"ramplab.{name}" for _, _, names in public_api.TOPICS for name in names}
    wanted = {n.canonical for n in public_api.public_names()
              if n.kind in ("class", "exception", "function") and n.canonical.count(".") == 2
              and n.canonical.split(".")[1] in public_api.TOPIC_PACKAGES}
    assert not sorted(wanted - listed), f"public names without a topic: {sorted(wanted - listed)}"

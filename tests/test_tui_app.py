"""The chat app driven through a Pilot, on the real engine worker (synthetic:tiny on CPU)."""

from __future__ import annotations

import json
import os
from contextlib import asynccontextmanager

from textual import events
from textual.widgets import Collapsible, Input, OptionList, Select, TextArea
from tui_support import TextAnswers, idle, make_app, settings, shared_worker, wait_for

from moechat.tui.screens.dialogs import ConfirmScreen, DatabaseErrorScreen, PromptScreen
from moechat.tui.screens.settings import SettingsScreen
from moechat.tui.store import SessionSettings, Store
from moechat.tui.widgets.composer import Composer

SIZE = (100, 30)


def seed(db, ids=("a0000001", "a0000002")):
    """Two sessions with history, written straight to the database."""
    it = iter(ids)
    s = Store(db, clock=lambda: "2025-05-01T09:00:00+00:00", new_id=lambda: next(it))
    one = s.create_session()
    s.add_message(one.id, "user", "What are tides?")
    s.add_message(one.id, "assistant", "The moon pulls the oceans; Zanzibar has huge ones.")
    two = s.create_session()
    s.add_message(two.id, "user", "Name a fast bird")
    s.add_message(two.id, "assistant", "The peregrine falcon.")
    s.close()
    return one.id, two.id


@asynccontextmanager
async def seeded_app(tmp_path, **make_app_options):
    """The app on a database seeded with two sessions, running and settled: (app, pilot, first id, second id)."""
    db = tmp_path / "c.db"
    one, two = seed(db)
    app = make_app(db, **make_app_options)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        yield app, pilot, one, two


def sidebar_ids(app) -> list[str]:
    ol = app.chat.query_one("#sessions", OptionList)
    return [ol.get_option_at_index(i).id for i in range(ol.option_count)]


async def type_and_send(pilot, text: str) -> None:
    pilot.app.chat.composer.focus()
    await pilot.press(*text)
    await pilot.press("enter")


async def test_send_streams_text_reasoning_then_answer(tmp_path):
    worker = TextAnswers(shared_worker(), analysis_batches=1)
    app = make_app(tmp_path / "c.db", worker=worker, session_defaults=settings(max_tokens=4000))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello there")
        chat = app.chat
        await wait_for(pilot, lambda: chat.replies and len(next(iter(chat.replies.values())).answer) > 10,
                       what="streamed answer text")
        view = chat.transcript.views()[-1]
        assert view.msg_status == "streaming"
        assert view.reasoning_text  # the first batch went to the reasoning block
        assert view.query_one(Collapsible).collapsed  # folded once the answer started
        # the visible Markdown holds what the engine produced so far, and it keeps growing
        await wait_for(pilot, lambda: len(view.shown_text) > 10, what="markdown to render")
        shown = view.shown_text
        await wait_for(pilot, lambda: len(view.shown_text) > len(shown), what="more text")
        assert view.shown_text.startswith(shown)
        # what is on screen is already in the database
        assert app.store.messages(chat.session.id)[-1].content.startswith(shown)
        await pilot.press("escape")
        await idle(pilot, app)


async def test_a_reply_runs_to_its_end_and_is_saved(tmp_path):
    worker = TextAnswers(shared_worker(), analysis_batches=1)
    app = make_app(tmp_path / "c.db", worker=worker, session_defaults=settings(max_tokens=24))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello there")
        chat = app.chat
        await idle(pilot, app)
        view = chat.transcript.views()[-1]
        stored = app.store.messages(chat.session.id)
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[0].content == "hello there"
        assert stored[1].status in ("done", "length") and view.msg_status == stored[1].status
        assert stored[1].content == view.answer_text == view.shown_text and stored[1].content
        assert stored[1].reasoning == view.reasoning_text and stored[1].reasoning
        assert stored[1].stats["prompt_tokens"] > 0 and stored[1].stats["generated_tokens"] <= 24
        assert "prefilled" in str(chat.status.render())
        assert app.store.get_session(chat.session.id).title == "hello there"
        assert sidebar_ids(app) == [chat.session.id]


async def test_escape_stops_and_keeps_partial_text(tmp_path):
    app = make_app(tmp_path / "c.db", session_defaults=settings(max_tokens=4000))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "write a long story")
        chat = app.chat
        await wait_for(pilot, lambda: chat.replies and len(next(iter(chat.replies.values())).answer) > 20,
                       what="some answer text")
        await pilot.press("escape")
        await idle(pilot, app)
        view = chat.transcript.views()[-1]
        msg = app.store.messages(chat.session.id)[-1]
        assert msg.status == "stopped" and view.msg_status == "stopped"
        assert len(msg.content) > 20 and msg.content == view.answer_text
        assert msg.stats["generated_tokens"] < 4000
        assert "stopped" in str(view.query_one(".header").render())
        # the next message works
        app.store.update_settings(chat.session.id, settings(max_tokens=4))
        await type_and_send(pilot, "again")
        await idle(pilot, app)
        msgs = app.store.messages(chat.session.id)
        assert [m.role for m in msgs] == ["user", "assistant", "user", "assistant"]
        assert msgs[-1].status in ("done", "length")


async def test_sessions_persist_across_app_instances(tmp_path):
    db = tmp_path / "c.db"
    app = make_app(db, session_defaults=settings(max_tokens=6))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "remember the aardvark")
        await idle(pilot, app)
        sid = app.chat.session.id
        answer = app.store.messages(sid)[-1].content
    app2 = make_app(db, ids=["x0000001"])
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app2.chat.session.id == sid
        assert sidebar_ids(app2) == [sid]
        views = app2.chat.transcript.views()
        assert [v.stored.role for v in views] == ["user", "assistant"]
        assert views[0].shown_text == "remember the aardvark"
        assert views[1].answer_text == answer


async def test_rename_branch_and_delete(tmp_path):
    async with seeded_app(tmp_path, ids=["b0000001"]) as (app, pilot, one, two):
        chat = app.chat
        assert chat.session.id == two  # the most recent session opens
        # switch to the other session from the sidebar
        ol = chat.query_one("#sessions", OptionList)
        ol.focus()
        ol.highlighted = sidebar_ids(app).index(one)
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat.session.id == one, what="switch")
        assert chat.transcript.views()[0].shown_text == "What are tides?"

        # rename
        await pilot.press("f2")
        assert isinstance(app.screen, PromptScreen)
        inp = app.screen.query_one(Input)
        inp.value = ""
        await pilot.press(*"Ocean tides")
        await pilot.press("enter")
        await pilot.pause()
        assert app.store.get_session(one).title == "Ocean tides"
        assert "Ocean tides" in str(ol.get_option(one).prompt)

        # branch at the first (user) message
        first = chat.transcript.views()[0]
        first.focus()
        await pilot.press("b")
        await wait_for(pilot, lambda: chat.session.id == "b0000001", what="branch")
        branch = app.store.get_session("b0000001")
        assert branch.parent_id == one and branch.parent_seq == 0
        assert [m.content for m in app.store.messages(branch.id)] == ["What are tides?"]
        assert len(chat.transcript.views()) == 1
        assert len(sidebar_ids(app)) == 3

        # delete the branch, after confirming
        await pilot.press("f8")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # cancel first: nothing deleted
        assert len(app.store.list_sessions()) == 3
        await pilot.press("f8")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: len(app.store.list_sessions()) == 2, what="delete")
        assert "b0000001" not in sidebar_ids(app)
        assert chat.session.id != "b0000001"


async def test_search_finds_a_word_from_an_old_message(tmp_path):
    async with seeded_app(tmp_path) as (app, pilot, one, two):
        await pilot.press("ctrl+f")
        assert app.focused is app.chat.sidebar.search_input
        await pilot.press(*"zanzi")
        await pilot.pause()
        assert sidebar_ids(app) == [one]
        assert "Zanzibar" in str(app.chat.query_one("#sessions", OptionList).get_option(one).prompt)
        await pilot.press("enter")  # opens the top hit
        await wait_for(pilot, lambda: app.chat.session.id == one, what="open the hit")
        await pilot.press("ctrl+f", "ctrl+a", "ctrl+k", *"falcon")
        await pilot.pause()
        assert sidebar_ids(app) == [two]


async def test_settings_reach_the_next_request(tmp_path):
    worker = TextAnswers(shared_worker())
    app = make_app(tmp_path / "c.db", worker=worker)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "first")
        await idle(pilot, app)
        await pilot.press("ctrl+o")
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        screen.query_one("#instructions", TextArea).load_text("Answer like a pirate.")
        screen.query_one("#reasoning", Select).value = "high"
        for field, value in (("#temperature", "0.5"), ("#top_p", "0.9"), ("#max_tokens", "7")):
            screen.query_one(field, Input).value = value
        screen.query_one("#top_p", Input).value = "1.5"
        await pilot.click("#save")
        assert app.screen is screen  # invalid top-p is refused with a message
        assert "top-p" in str(screen.query_one("#settings-error").render())
        screen.query_one("#top_p", Input).value = "0.9"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is app.chat
        sid = app.chat.session.id
        assert app.store.session_settings(sid) == SessionSettings("Answer like a pirate.", "high", 0.5, 0.9, 7)
        await type_and_send(pilot, "second")
        await idle(pilot, app)
        req = worker.requests[-1]
        assert req.conversation.instructions == "Answer like a pirate."
        assert req.conversation.reasoning == "high"
        assert (req.params.temperature, req.params.top_p, req.params.max_tokens) == (0.5, 0.9, 7)
        assert [m.content for m in req.conversation.messages][-1] == "second"
        assert app.store.messages(sid)[-1].stats["generated_tokens"] <= 7
        tok = shared_worker().tokenizer
        assert "Answer like a pirate." in tok.decode(req.prompt_ids)
        assert "Reasoning: high" in tok.decode(req.prompt_ids)


async def test_returning_to_a_session_reuses_its_cached_prefix(tmp_path):
    async with seeded_app(tmp_path) as (app, pilot, one, two):
        chat = app.chat
        await chat.open_session(one)
        app.store.update_settings(one, settings(max_tokens=4))
        app.store.update_settings(two, settings(max_tokens=4))
        await type_and_send(pilot, "and the sun?")
        await idle(pilot, app)
        await chat.open_session(two)
        await type_and_send(pilot, "and the slowest?")
        await idle(pilot, app)
        await chat.open_session(one)
        await type_and_send(pilot, "thanks")
        await idle(pilot, app)
        stats = app.store.messages(one)[-1].stats
        assert stats["cached_tokens"] >= 16, stats
        assert f"{stats['cached_tokens']} reused + " in str(chat.status.render())
        assert "KV " in str(chat.status.render())
        await pilot.resize_terminal(70, 30)  # too narrow for the full line: the compact one keeps every part
        await pilot.pause()
        line = str(chat.status.render())
        assert "reused" not in line and "TTFT" in line and "KV " in line and "%" in line, line
        assert chat.status.render().cell_len <= chat.status.content_size.width, line


async def test_engine_error_shows_in_the_reply_and_the_next_message_works(tmp_path):
    worker = TextAnswers(shared_worker(), fail_next="CUDA error: out of memory")
    app = make_app(tmp_path / "c.db", worker=worker)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hi")
        await idle(pilot, app)
        view = app.chat.transcript.views()[-1]
        assert view.msg_status == "error"
        assert "out of memory" in str(view.query_one(".error").render())
        msg = app.store.messages(app.chat.session.id)[-1]
        assert msg.status == "error" and "out of memory" in msg.error
        await type_and_send(pilot, "hi again")
        await idle(pilot, app)
        msgs = app.store.messages(app.chat.session.id)
        assert msgs[-1].status in ("done", "length") and msgs[-1].content
        # the failed, empty answer is not fed back to the model
        assert [m.content for m in worker.requests[-1].conversation.messages] == ["hi", "hi again"]


async def test_model_that_cannot_load_gives_a_clear_error(tmp_path):
    from moechat.tui.app import MoechatApp
    from moechat.tui.config import EngineChoice

    app = MoechatApp(EngineChoice("/nonexistent/model-dir", "cpu"), tmp_path / "c.db",
                     config_file=tmp_path / "cfg.json", session_defaults=settings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine_error is not None, what="load error")
        assert app.chat.status.state == "error"
        assert "engine error" in str(app.chat.status.render())
        await pilot.pause()
        hint = str(app.chat.query_one(".empty-hint").render())
        assert "could not be loaded" in hint and "/nonexistent/model-dir" in hint
        await type_and_send(pilot, "hello?")
        await idle(pilot, app)
        msg = app.store.messages(app.chat.session.id)[-1]
        assert msg.status == "error" and msg.error


async def test_regenerate_edit_last_and_copy(tmp_path):
    worker = TextAnswers(shared_worker())
    async with seeded_app(tmp_path, worker=worker) as (app, pilot, one, two):
        chat = app.chat
        app.store.update_settings(two, settings(max_tokens=5))
        await pilot.press("ctrl+r")
        await idle(pilot, app)
        msgs = app.store.messages(two)
        assert [m.role for m in msgs] == ["user", "assistant"]
        assert msgs[1].content != "The peregrine falcon."
        assert [m.content for m in worker.requests[-1].conversation.messages] == ["Name a fast bird"]

        await pilot.press("ctrl+g")
        composer = chat.query_one(Composer)
        assert composer.text == "Name a fast bird" and composer.editing_seq == 0
        await pilot.press(*" please", "enter")
        await idle(pilot, app)
        msgs = app.store.messages(two)
        assert [(m.role, m.content) for m in msgs][0] == ("user", "Name a fast bird please")
        assert len(msgs) == 2

        view = chat.transcript.views()[-1]
        view.focus()
        await pilot.press("c")
        assert app.clipboard == msgs[1].content


async def test_export_from_the_app_and_the_command_palette(tmp_path):
    out = tmp_path / "exports"
    async with seeded_app(tmp_path, export_dir=out) as (app, pilot, one, two):
        await pilot.press("ctrl+s")
        await pilot.pause()
        md = (out / f"name-a-fast-bird-{two}.md").read_text()
        assert md.startswith("# Name a fast bird\n")
        assert "## User\n\nName a fast bird" in md and "## Assistant\n\nThe peregrine falcon." in md
        await pilot.press("ctrl+p")
        await pilot.press(*"Export as JSON")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: (out / f"name-a-fast-bird-{two}.json").exists(), what="json export")
        doc = json.loads((out / f"name-a-fast-bird-{two}.json").read_text())
        assert doc["session"]["id"] == two
        assert [m["content"] for m in doc["messages"]] == ["Name a fast bird", "The peregrine falcon."]


async def test_export_to_an_unwritable_folder_is_reported_and_the_app_goes_on(tmp_path):
    blocker = tmp_path / "exports"
    blocker.write_text("a file where the export folder should be")
    async with seeded_app(tmp_path, export_dir=blocker) as (app, pilot, one, two):
        said = []
        app.notify = lambda message, **kw: said.append((message, kw.get("severity")))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(said) == 1 and said[0][0].startswith("Export failed: ") and said[0][1] == "error"
        assert app.is_running and blocker.read_text().startswith("a file")


async def test_corrupt_database_offers_a_new_one_and_keeps_the_old_file(tmp_path):
    db = tmp_path / "c.db"
    db.write_bytes(b"garbage, not a database " * 200)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DatabaseErrorScreen)
        assert "can't be read" in str(app.screen.query_one("#db-error").render())
        await pilot.click("#new")
        await wait_for(pilot, lambda: app.chat is not None and app.chat.is_attached, what="chat screen")
        kept = [p for p in os.listdir(tmp_path) if p.startswith("c.db.broken-")]
        assert len(kept) == 1
        assert (tmp_path / kept[0]).read_bytes().startswith(b"garbage, not a database")
        await type_and_send(pilot, "works now")
        await idle(pilot, app)
        assert app.store.messages(app.chat.session.id)[0].content == "works now"


async def test_newline_keys_and_small_terminal(tmp_path):
    app = make_app(tmp_path / "c.db")
    async with app.run_test(size=(80, 24)) as pilot:
        composer = app.chat.composer
        composer.focus()
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c")
        assert composer.text == "a\nb\nc"
        assert not app.chat.replies  # nothing was sent
        await pilot.press("enter")
        await idle(pilot, app)
        assert app.chat.transcript.views()[0].shown_text == "a\nb\nc"  # lines kept as typed
        assert app.store.messages(app.chat.session.id)[0].content == "a\nb\nc"
        await pilot.press("ctrl+b")
        assert not app.chat.sidebar.display
        await pilot.press("ctrl+b")
        assert app.chat.sidebar.display
        assert app.chat.query_one("#transcript").size.width >= 40


async def test_switching_sessions_while_streaming_and_coming_back(tmp_path):
    async with seeded_app(tmp_path) as (app, pilot, one, two):
        chat = app.chat
        app.store.update_settings(two, settings(max_tokens=4000))
        await type_and_send(pilot, "tell me everything")
        await wait_for(pilot, lambda: len(chat.replies.get(two, None).answer if two in chat.replies else "") > 5,
                       what="streaming in the first session")
        await chat.open_session(one)
        assert [v.shown_text for v in chat.transcript.views()][0] == "What are tides?"
        # the composer stays live while the other session streams: keys land within a second
        # (Pilot.press waits for a quiet screen, which a streaming app never is, so post the keys directly)
        chat.composer.focus()
        for ch in "typing":
            chat.composer.post_message(events.Key(ch, ch))
        await wait_for(pilot, lambda: chat.composer.text == "typing", timeout=1.0, what="typed text")
        assert "●" in str(chat.query_one("#sessions", OptionList).get_option(two).prompt)
        grown = len(chat.replies[two].answer)
        await wait_for(pilot, lambda: len(chat.replies[two].answer) > grown + 5, what="streaming in the background")
        await chat.open_session(two)
        view = chat.transcript.views()[-1]
        assert chat.replies[two].view is view and view.msg_status == "streaming"
        before = len(view.answer_text)
        await wait_for(pilot, lambda: len(view.answer_text) > before + 5, what="the re-attached view to grow")
        await pilot.press("escape")
        await idle(pilot, app)
        msg = app.store.messages(two)[-1]
        assert msg.status == "stopped" and msg.content == view.answer_text


async def test_quitting_mid_answer_keeps_the_partial_answer(tmp_path):
    db = tmp_path / "c.db"
    app = make_app(db, session_defaults=settings(max_tokens=4000))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "go on and on")
        await wait_for(pilot, lambda: app.chat.replies and len(next(iter(app.chat.replies.values())).answer) > 5,
                       what="some text")
        sid = app.chat.session.id
        await pilot.press("ctrl+q")
    s = Store(db)
    msg = s.messages(sid)[-1]
    assert msg.role == "assistant" and msg.status == "stopped" and len(msg.content) > 5


async def test_app_builds_its_engine_and_reports_load_progress(tmp_path):
    from moechat.tui.app import MoechatApp
    from moechat.tui.config import EngineChoice

    app = MoechatApp(EngineChoice("synthetic:tiny", "cpu", "float32", 0.02), tmp_path / "c.db",
                     config_file=tmp_path / "cfg.json", session_defaults=settings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine_ready or app.engine_error, timeout=60, what="the engine")
        assert app.engine_error is None and app.load_progress == 1.0
        await pilot.pause()
        status = str(app.chat.status.render())
        assert "synthetic:tiny · cpu" in status and "KV 0/" in status

"""Real headless Chromium, two students at once on a fresh server: the second one's training waits in the one
training queue, is told its place, and then gets its own result."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser

# The flagship network on 4,000 pictures: drawing them, then several seconds of training on this CPU — long
# enough for a second student to arrive while it trains.
SLOW = "Bunnies_and_grass?bunnies_pictures=4000&bunnies_trained=1"
QUICK = "Splitting_the_data?splits_trained=1"


def test_a_second_training_waits_for_its_turn_and_is_told_its_place(fresh_server, browser):
    """Test whether, while one student's training runs, a second student's different training shows its place
    in the queue ("you are next") instead of training beside it, and then shows its own result."""
    first = browser.new_context(viewport={"width": 1366, "height": 768})
    second = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        slow, quick = first.new_page(), second.new_page()
        slow.goto(f"{fresh_server}/{SLOW}")
        expect(slow.get_by_text("Learning…")).to_be_visible(timeout=120_000)
        quick.goto(f"{fresh_server}/{QUICK}")
        expect(quick.get_by_text("waiting for its turn (you are next)")).to_be_visible(timeout=60_000)
        screenshot(quick, "queue_waiting")
        settle(slow)
        settle(quick)
        expect(quick.get_by_text("waiting for its turn")).to_have_count(0)
        assert slow.locator(EXCEPTION).count() == 0 and quick.locator(EXCEPTION).count() == 0
        expect(quick.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=60_000)
    finally:
        first.close()
        second.close()


def test_a_waiting_student_can_leave_the_queue_and_does_not_join_again_by_itself(fresh_server, browser):
    """Test whether a student waiting in the queue gets a "Leave the queue" button, and pressing it takes the page
    out of the queue (a plain line says so, no result is trained for it) while the other student's training goes on
    to its result."""
    first = browser.new_context(viewport={"width": 1366, "height": 768})
    second = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        slow, quick = first.new_page(), second.new_page()
        slow.goto(f"{fresh_server}/{SLOW}")
        expect(slow.get_by_text("Learning…")).to_be_visible(timeout=120_000)
        quick.goto(f"{fresh_server}/{QUICK}")
        expect(quick.get_by_text("waiting for its turn (you are next)")).to_be_visible(timeout=60_000)
        quick.get_by_role("button", name="Leave the queue").click()
        expect(quick.get_by_text("You left the queue")).to_be_visible(timeout=30_000)
        screenshot(quick, "queue_left")
        settle(slow)
        expect(slow.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=60_000)
        settle(quick)
        assert quick.locator('[data-testid="stMetric"]').count() == 0  # nothing was trained for the one who left
        assert slow.locator(EXCEPTION).count() == 0 and quick.locator(EXCEPTION).count() == 0
    finally:
        first.close()
        second.close()

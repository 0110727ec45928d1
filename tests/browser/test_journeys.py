"""The product as people use it: real Chromium against a real `tidings serve`.

Every person has their own browser context, and everything happens by clicking and typing
on the pages: no shortcuts through the database. Inbox items are made by the server's
background worker and pages refresh themselves by polling, so the tests wait with
expect(...) and never sleep.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, snap

PASSWORD = "a long walk by the quiet harbour"
# Inbox items come from the background worker and lists refresh by polling (10–20 s).
POLL = 35_000


# --- steps people take -------------------------------------------------------------------


def set_up_owner(new_page, server, *, name: str = "Olivia Owner") -> Page:
    """Open the setup link and create the owner and the first workspace."""
    page = new_page()
    page.goto(server.setup_link)
    expect(page.get_by_role("heading", name="Set up Tidings")).to_be_visible()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill("olivia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Time zone").fill("Europe/Lisbon")
    page.get_by_label("Workspace name").fill("Harbour Works")
    return page


def submit_setup(page: Page) -> None:
    page.get_by_role("button", name="Create account and workspace").click()
    expect(page).to_have_url(re.compile(r"/w/[\w-]+/$"))
    expect(page.get_by_role("navigation", name="Harbour Works")).to_be_visible()


def create_space(page: Page, name: str, *, private: bool = False) -> None:
    sidebar = page.get_by_role("navigation", name="Harbour Works")
    sidebar.get_by_role("link", name="+ New space").click()
    page.get_by_label("Name").fill(name)
    if private:
        page.get_by_role("radio", name=re.compile("Private")).check()
    page.get_by_role("button", name="Create space").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def invite(page: Page, email: str) -> str:
    """Invite someone as a member from the People page; return the link shown there."""
    page.get_by_role("navigation", name="Harbour Works").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Send invitation").click()
    link = page.get_by_role("textbox", name="Invitation link")
    expect(link).to_be_visible()
    return link.input_value()


def accept_invite(new_page, link: str, name: str, *, viewport: dict | None = None) -> Page:
    page = new_page(viewport)
    page.goto(link)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Time zone").fill("America/Chicago")
    page.get_by_role("button", name="Create account and join").click()
    expect(page).to_have_url(re.compile(r"/w/[\w-]+/$"))
    return page


def open_space(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Harbour Works").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def post_thread(page: Page, space: str, title: str, body: str) -> str:
    """Post a discussion thread in a space; return the thread's address."""
    open_space(page, space)
    page.get_by_role("link", name="New thread").first.click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Opening post").fill(body)
    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    return page.url


def post_reply(page: Page, text: str) -> None:
    page.get_by_label("Your reply").fill(text)
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("article.post", has_text=text)).to_be_visible()


def inbox_count(page: Page):
    return page.locator("#inbox-count")


# --- the journeys --------------------------------------------------------------------------


def test_team_journey(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    snap(owner, "01-setup")
    submit_setup(owner)
    snap(owner, "02-workspace-home-empty")

    create_space(owner, "Lighthouse")
    owner.get_by_role("link", name="Harbour Works", exact=True).first.click()
    expect(owner.get_by_role("link", name="Lighthouse").first).to_be_visible()
    snap(owner, "03-workspace-home")

    link = invite(owner, "mina@example.com")
    assert link.startswith(server.base_url + "/invite/")
    snap(owner, "04-people")

    member = accept_invite(new_page, link, "Mina Member")
    snap(member, "05-member-workspace")

    # The member writes a thread and mentions the owner through the autocomplete.
    open_space(member, "Lighthouse")
    member.get_by_role("link", name="New thread").first.click()
    member.get_by_label("Title").fill("Beacon maintenance window")
    body = member.get_by_label("Opening post")
    body.fill("The lamp needs a new prism before winter; the tern colony nests nearby.\n\n")
    body.press("End")
    body.press_sequentially("Can you approve the budget @oli")
    member.get_by_role("option", name=re.compile("Olivia Owner")).click()
    expect(body).to_have_value(re.compile(r"budget @olivia $"))
    body.press_sequentially("when you can.")
    member.get_by_role("button", name="Post thread").click()
    thread_heading = member.get_by_role("heading", level=1, name="Beacon maintenance window")
    expect(thread_heading).to_be_visible()
    expect(member.locator(".post-opening .post-body")).to_contain_text("@Olivia Owner")

    # The background worker files the mention in the owner's inbox; the nav count on the
    # owner's open page polls and shows it, and the inbox lists it.
    expect(inbox_count(owner)).to_have_text(re.compile(r"^\D*1\D*$"), timeout=POLL)
    owner.get_by_role("link", name=re.compile("^Inbox")).click()
    item = owner.locator(".inbox-item", has_text="Beacon maintenance window")
    expect(item).to_be_visible()
    expect(item.locator(".reason")).to_contain_text(re.compile("mention", re.I))
    snap(owner, "06-inbox")

    # The owner quotes a passage of the opening post and replies.
    item.get_by_role("link", name=re.compile("Beacon maintenance window")).click()
    expect(owner.get_by_role("heading", level=1, name="Beacon maintenance window")).to_be_visible()
    opening = owner.locator("article.post-opening")
    opening.locator(".post-body p").first.evaluate(
        """(p) => {
            const text = p.firstChild;
            const start = text.textContent.indexOf("a new prism");
            const range = document.createRange();
            range.setStart(text, start);
            range.setEnd(text, start + "a new prism before winter".length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }"""
    )
    opening.get_by_role("link", name="Quote").click()
    quote_box = owner.locator("#composer .composer-quote")
    expect(quote_box).to_be_visible()
    expect(quote_box.locator("blockquote")).to_have_text("a new prism before winter")
    post_reply(owner, "Approved. Order the prism from the glassworks in Marinha Grande.")
    reply = owner.locator("article.post", has_text="Marinha Grande")
    quote = reply.locator("blockquote.post-quote")
    expect(quote).to_contain_text("a new prism before winter")
    expect(quote.get_by_role("link", name="Mina Member wrote:")).to_have_attribute("href", "#post")
    snap(owner, "07-thread")

    # Done: the inbox is empty.
    owner.get_by_role("link", name=re.compile("^Inbox")).click()
    item = owner.locator(".inbox-item", has_text="Beacon maintenance window")
    item.get_by_role("button", name="Done").click()
    expect(owner.get_by_role("button", name="Undo")).to_be_visible()
    expect(inbox_count(owner)).to_have_text(re.compile(r"^\D*0\D*$"), timeout=POLL)
    owner.reload()
    expect(owner.get_by_role("heading", name=re.compile("Inbox zero"))).to_be_visible()
    snap(owner, "08-inbox-empty")

    # The member finds the owner's reply by a word only it contains.
    member.get_by_role("search").get_by_label("Search").fill("glassworks")
    member.get_by_role("search").get_by_label("Search").press("Enter")
    hit = member.locator(".search-hit", has_text="Beacon maintenance window")
    expect(hit).to_be_visible()
    expect(hit.locator("mark")).to_have_text(re.compile("glassworks", re.I))
    expect(hit).to_contain_text("Reply by Olivia Owner")
    snap(member, "09-search")
    hit.get_by_role("link", name="Beacon maintenance window").click()
    expect(member).to_have_url(re.compile(r"#reply-\d+$"))
    target = member.locator("article.post:target")
    expect(target).to_contain_text("Marinha Grande")


def test_private_space_is_unreachable(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Boardroom", private=True)
    thread_url = post_thread(
        owner, "Boardroom", "Succession plan", "Keep the quartermaster candidates confidential."
    )
    open_space(owner, "Boardroom")
    space_url = owner.url
    create_space(owner, "Dockside")
    link = invite(owner, "mina@example.com")

    member = accept_invite(new_page, link, "Mina Member")
    sidebar = member.get_by_role("navigation", name="Harbour Works")
    expect(sidebar.get_by_role("link", name="Dockside")).to_be_visible()
    expect(sidebar).not_to_contain_text("Boardroom")
    expect(member.locator("main")).not_to_contain_text("Boardroom")

    for url in (thread_url, space_url):
        response = member.goto(url)
        assert response is not None and response.status == 404
        expect(member.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(member.locator("body")).not_to_contain_text("Succession")
        expect(member.locator("body")).not_to_contain_text("Boardroom")
    snap(member, "10-not-found")

    member.goto(server.url("/search/?q=quartermaster"))
    expect(member.get_by_role("heading", name=re.compile("No results"))).to_be_visible()
    expect(member.locator("main")).not_to_contain_text("Succession")

    # A public thread posted later reaches the member's inbox; the private one never does.
    post_thread(owner, "Dockside", "Crane inspection", "The crane gets inspected on Monday.")
    member.goto(server.url("/inbox/"))
    expect(member.locator(".inbox-item", has_text="Crane inspection")).to_be_visible(timeout=POLL)
    expect(member.locator("main")).not_to_contain_text("Succession")


def test_live_updates(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Lighthouse")
    # The owner asks for only the threads they are in from this space, so their inbox
    # stays empty until someone mentions them.
    owner.get_by_label("In my inbox").select_option(label="Threads I'm in and mentions")
    owner.get_by_role("button", name="Save").click()
    expect(owner.get_by_role("status")).to_be_visible()
    link = invite(owner, "mina@example.com")
    member = accept_invite(new_page, link, "Mina Member")
    thread_url = post_thread(
        member, "Lighthouse", "Fog horn schedule", "Fog horn drills on Tuesdays."
    )

    owner.goto(thread_url)
    expect(owner.get_by_role("heading", level=1, name="Fog horn schedule")).to_be_visible()
    expect(inbox_count(owner)).to_have_text(re.compile(r"^\D*0\D*$"))

    # The member replies mentioning the owner through the autocomplete; the owner's open
    # page changes by itself.
    composer = member.get_by_label("Your reply")
    composer.press_sequentially("Drills move to Wednesdays from next month, @oli")
    member.get_by_role("option", name=re.compile("Olivia Owner")).click()
    expect(composer).to_have_value(re.compile(r"@olivia $"))
    member.get_by_role("button", name="Post reply").click()
    expect(member.locator("article.post", has_text="Drills move to Wednesdays")).to_be_visible()

    expect(owner.locator("article.post", has_text="Drills move to Wednesdays")).to_be_visible(
        timeout=POLL
    )
    expect(inbox_count(owner)).to_have_text(re.compile(r"^\D*1\D*$"), timeout=POLL)
    expect(owner.locator("#inbox-count.count-zero")).to_have_count(0)


PHONE_PAGES = ["workspace", "space", "thread", "inbox", "search", "people", "settings"]


def test_main_pages_fit_a_phone_and_are_accessible(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    workspace_url = owner.url
    create_space(owner, "Lighthouse keepers and their extraordinarily long space names")
    space_url = owner.url
    thread_url = post_thread(
        owner,
        "Lighthouse keepers",
        "A rather long title about the maintenance of the northern breakwater lamps in winter",
        "Links like https://example.com/a/very/long/path/that/does/not/wrap/easily/at/all/"
        "because-it-has-no-spaces-anywhere-in-it and `a_long_identifier_in_inline_code_x`.\n\n"
        "| column one | column two | column three | column four | column five |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| a value | another value | yet another | and more | and the last |\n\n"
        "```\nconst aVeryLongLineOfCode = someFunction(withArguments, andMoreArguments, 42);\n```",
    )
    post_reply(owner, "The breakwater lamps were checked.")
    link = invite(owner, "mina@example.com")
    assert link

    phone = owner.context.new_page()
    phone.set_viewport_size(PHONE)
    urls = {
        "workspace": workspace_url,
        "space": space_url,
        "thread": thread_url,
        "inbox": server.url("/inbox/"),
        "search": server.url("/search/?q=breakwater"),
        "people": workspace_url + "people/",
        "settings": server.url("/settings/"),
    }
    too_wide = {}
    for name in PHONE_PAGES:
        response = phone.goto(urls[name])
        assert response is not None and response.status == 200, name
        width = phone.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"] + 1:
            too_wide[name] = width
    assert too_wide == {}

    # The same pages, and the sign-in page, pass axe-core's accessibility rules at both widths.
    signed_out = new_page()
    signed_out.goto(server.url("/sign-in"))
    problems = {"sign-in": accessibility_violations(signed_out)}
    for name in PHONE_PAGES:
        for page in (owner, phone):
            page.goto(urls[name])
            problems[f"{name} at {page.viewport_size['width']} px"] = accessibility_violations(page)
    assert {page: found for page, found in problems.items() if found} == {}


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's findings on the page as 'rule (impact): first element' lines."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in result.response["violations"]
    ]

from html.parser import HTMLParser

import pytest

from tidings.threads.markdown import ALLOWED_TAGS, plain_text, render_markdown, render_post
from tidings.threads.mentions import find_mentions

HOSTILE = [
    "::: details <img src=x onerror=alert(1)>\nx\n:::",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "<script>alert(1)</script>",
    "<iframe src='https://evil.test'></iframe>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](javascript:alert(1))",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    '<div style="position:fixed">x</div>',
    "<javascript:alert(1)>",
    "[x](vbscript:msgbox(1))",
    '[x](https://ok.test "t" onmouseover=alert(1))',
    "<a href='javascript:alert(1)'>x</a>",
]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parsed(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize(
    "source",
    HOSTILE,
)
def test_hostile_markdown_comes_out_inert(world, source):
    html = render_markdown(source, space=world.open_space)
    for tag, attrs in parsed(html):
        assert tag in ALLOWED_TAGS
        assert tag not in {"script", "iframe", "svg", "style", "object", "embed"}
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert name != "style", html
            if name in {"href", "src"}:
                assert value.lower().startswith(("https:", "http:", "mailto:", "/files/")), html
    assert "<script" not in html.lower()
    assert "<iframe" not in html.lower()


def test_links_get_rel_and_only_safe_schemes(world):
    html = render_markdown(
        "[site](https://example.com) [mail](mailto:a@b.test) [ftp](ftp://x.test) www.example.com",
        space=world.open_space,
    )
    assert '<a href="https://example.com" rel="nofollow noopener">site</a>' in html
    assert 'href="mailto:a@b.test"' in html
    assert "ftp://" not in html.split(">ftp<")[0]
    assert 'href="http://www.example.com" rel="nofollow noopener"' in html


def test_pictures_show_only_from_our_attachments_and_posters(world):
    html = render_markdown(
        "![plan](/files/abc/pic.png) ![still](/media/r/a1b2:c3d4/poster.jpg)"
        " ![spaced](</files/abc/my plan.png>)",
        space=world.open_space,
    )
    assert [attrs["src"] for tag, attrs in parsed(html) if tag == "img"] == [
        "/files/abc/pic.png",
        "/media/r/a1b2:c3d4/poster.jpg",
        "/files/abc/my%20plan.png",
    ]


# Addresses a picture could use to make a reader's browser fetch something with their
# cookies: other pages of this server (marking a thread read, signing out), other hosts,
# and every spelling that a browser or server resolves to somewhere else.
OTHER_PICTURES = [
    "/t/7/",
    "/t/7/updates?after=0",
    "/logout",
    "/inbox/3/done",
    "/w/acme/s/general/",
    "../t/7/",
    "t/7/",
    "./files/abc/pic.png",
    "/files/abc/../../t/7/",
    "/files/abc/%2e%2e/%2e%2e/t/7/",
    "/files/abc/%2E%2E/%2e./t/7/",
    "/files/abc/..%2f..%2ft%2f7%2f",
    "/files/abc/..%5c..%5ct",
    "/files/abc/pic.png%00",
    "/files/abc/pic.png?next=/t/7/",
    "/files/abc/pic.png#x",
    "/files//pic.png",
    "/files/abc/pic.png/",
    "/files/abc",
    "//evil.test/files/abc/pic.png",
    "/%2fevil.test/files/abc/pic.png",
    "https://evil.test/files/abc/pic.png",
    "http://localhost/files/abc/pic.png",
    "/media/r/a1b2:c3d4/recording.webm",
    "/media/r/a1b2:c3d4/poster.jpg/../../../t/7/",
    "/recordings/0123456789abcdef0123456789abcdef/viewed",
    "data:image/png;base64,iVBORw0KGgo=",
]


@pytest.mark.parametrize("src", OTHER_PICTURES)
def test_a_picture_from_anywhere_else_becomes_a_link_that_keeps_its_words(world, src):
    html = render_markdown(f"See ![the plan]({src}) here.", space=world.open_space)
    assert "<img" not in html, html
    assert "See <a" in html and ">the plan</a> here." in html, html
    links = [attrs for tag, attrs in parsed(html) if tag == "a"]
    assert len(links) == 1 and links[0]["rel"] == "nofollow noopener"


@pytest.mark.parametrize("src", ["/files/abc/pic.png", "/t/7/", "//evil.test/a.png"])
def test_a_backslash_never_makes_a_picture(world, src):
    html = render_markdown(f"![x]({src.replace('/', chr(92), 1)})", space=world.open_space)
    assert "<img" not in html, html


def test_a_picture_without_words_links_its_address(world):
    html = render_markdown('![](https://cdn.test/b.png "The chart")', space=world.open_space)
    assert html == (
        '<p><a href="https://cdn.test/b.png" title="The chart" rel="nofollow noopener">'
        "https://cdn.test/b.png</a></p>\n"
    )


def test_words_of_a_picture_never_mention_anyone(world):
    post = render_post("![@mia](/t/7/)", space=world.open_space)
    assert post.mentioned == [] and 'class="mention"' not in post.html


def test_details_blocks_fold_and_nest(world):
    html = render_markdown(
        ":::: details Forwarded message from Ann <ann@partner.test>, “Budget”\nThe **budget**."
        "\n\n::: details Earlier messages\n> old\n:::\n::::\nAfter.",
        space=world.open_space,
    )
    assert html == (
        "<details><summary>Forwarded message from Ann &lt;ann@partner.test&gt;, “Budget”"
        "</summary>\n<p>The <strong>budget</strong>.</p>\n<details><summary>Earlier messages"
        "</summary>\n<blockquote>\n<p>old</p>\n</blockquote>\n</details>\n</details>\n"
        "<p>After.</p>\n"
    )


def test_tables_and_strikethrough(world):
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~", space=world.open_space)
    assert '<table tabindex="0">' in html and "<td>1</td>" in html
    assert "<s>old</s>" in html


def test_code_blocks_can_be_reached_by_keyboard_when_they_scroll(world):
    html = render_markdown("```\nx = 1\n```\n\n<pre tabindex=5>y</pre>", space=world.open_space)
    assert html.startswith('<pre tabindex="0"><code>x = 1')
    assert "&lt;pre tabindex=5&gt;" in html  # raw HTML stays text


def test_mentions_only_for_people_who_can_see_the_space(world):
    text = "Hi @mia and @adam and @otto, mail olivia@acme.test, `@gus` in code"
    open_html = render_markdown(text, space=world.open_space)
    assert '<span class="mention">@Mia Member</span>' in open_html
    assert '<span class="mention">@Adam Admin</span>' in open_html
    assert "Otto" not in open_html  # not in this workspace: stays plain text
    assert "@otto" in open_html
    assert "Gus Guest" not in open_html  # inside code
    private_html = render_markdown(text, space=world.private_space)
    assert "Mia Member" not in private_html
    assert '<span class="mention">@Adam Admin</span>' in private_html

    names = {p.name for p in find_mentions(text, world.open_space)}
    assert names == {"Mia Member", "Adam Admin"}
    assert {p.name for p in find_mentions(text, world.private_space)} == {"Adam Admin"}


def test_raw_html_mention_cannot_be_faked(world):
    html = render_markdown('<span class="mention">@Boss</span>', space=world.open_space)
    assert '<span class="mention">' not in html


def test_mention_names_are_escaped(world):
    world.member.name = "<b>Mia</b>"
    world.member.save()
    html = render_markdown("@mia", space=world.open_space)
    assert "&lt;b&gt;Mia&lt;/b&gt;" in html


def test_plain_text_joins_blocks_and_keeps_words(world):
    html = render_markdown("**bo**ld\n\n- one\n- two", space=world.open_space)
    assert plain_text(html) == "bold one two"


def test_raw_html_is_shown_as_text_not_run(world):
    html = render_markdown("<script>alert(1)</script> <b>hi</b>", space=world.open_space)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html

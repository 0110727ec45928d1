from html.parser import HTMLParser

import pytest

from tidings.threads.markdown import ALLOWED_TAGS, plain_text, render_markdown
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


def test_images_only_from_our_files_or_https(world):
    html = render_markdown(
        "![a](/files/abc/pic.png) ![b](https://cdn.test/b.png) ![c](http://plain.test/c.png)",
        space=world.open_space,
    )
    assert 'src="/files/abc/pic.png"' in html
    assert 'src="https://cdn.test/b.png"' in html
    assert "http://plain.test" not in html


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

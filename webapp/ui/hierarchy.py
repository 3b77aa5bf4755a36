"""The hierarchy editor: the tag tree, one branch at a time.

The page shows a node per tag group (collapsed) and the ungrouped root tags; a branch's
children are fetched when it is expanded (``/hierarchy/<id>/children``), 200 at a time
with "show more", so a scope of 100,000 tags never loads whole.  Every node shows its
usage and descendant counts, fetched for the whole branch at once.

Each node has a panel under its row where its inline forms open (add child, rename,
move, delete confirmation).  After a change the server answers with the parts of the tree
that changed: the parent node (add), the row (rename), the whole tree opened at the moved
node (move), or nothing for the deleted node; plus, out of band, the rows of the node's
ancestors (their counts changed), the count of its section and the flash message.

``?open=<tag>`` renders the tree with the path to that tag expanded; without JavaScript
every expand control and form is a plain link to a page of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for

from webapp.models import Tag, TagGroup
from webapp.services.actor import Permission, authorize
from webapp.services.errors import Conflict, NotFound, ValidationFailed
from webapp.services.groups import GroupRow, get_group, list_groups
from webapp.services.paging import Page, PageRequest
from webapp.services.sql import integer_key
from webapp.services.tags.creation import TagSpec, create_tag
from webapp.services.tags.deletion import delete_tag, subtree_listing
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import Reading, find_tag, get_tag
from webapp.services.tags.queries import (
    TagFilter,
    TreeNode,
    ancestors_of,
    group_tag_count,
    move_targets,
    protected_in_subtree,
    search_tags,
    subtree_summary,
    tree_children,
    tree_nodes,
)
from webapp.ui.errors import REFUSED_FORM, form_status
from webapp.ui.hierarchy_forms import (
    AddChildForm,
    ConfirmForm,
    MoveForm,
    NewRootForm,
    RenameForm,
    node_prefix,
)
from webapp.ui.rendering import apply_service_error, render_page, wants_fragment
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint

hierarchy = scoped_blueprint("hierarchy", __name__)

PER_PAGE = 200  # nodes per page of a branch
SUGGESTIONS = 15  # tags offered by the move picker and the "find" box

CREATE = (Permission.TAGS_CREATE, Permission.TAGS_WRITE)
FORM_ERRORS = (ValidationFailed, Conflict)  # shown beside the field; others are pages


# --- the tree as the templates see it ---------------------------------------------------


@dataclass(frozen=True)
class Branch:
    """The loaded part of a branch: its first pages, plus (``extra``) a node on the path
    to the focused tag that the pages did not reach, and the URL of the next page."""

    page: Page[TreeNode]
    extra: TreeNode | None = None
    more_url: str | None = None

    @property
    def remaining(self) -> int:
        shown = self.page.page * self.page.per_page + (1 if self.extra else 0)
        return max(0, self.page.total - shown)


@dataclass
class Tree:
    """The sections (groups, then the ungrouped tags) and every expanded branch."""

    groups: list[GroupRow] = field(default_factory=list)
    ungrouped: int = 0
    sections: dict[int | None, Branch] = field(default_factory=dict)  # None: ungrouped
    branches: dict[int, Branch] = field(default_factory=dict)  # by parent tag id
    focus: int | None = None


def _branch_url(parent: Tag | None, group: TagGroup | None, page: int, skip: int | None
                ) -> str:
    if parent is not None:
        return url_for(".children", tag_id=parent.id, page=page, skip=skip)
    return url_for(".roots", group=group.id if group else None, page=page, skip=skip)


def load_branch(parent: Tag | None, group: TagGroup | None = None, *, page: int = 1,
                skip: int | None = None, include: Tag | None = None) -> Branch:
    """A page of the children of ``parent`` (or of the roots of ``group``); ``include``
    is shown too, after the page, when the first page does not hold it."""
    result = tree_children(scoped_actor(), current_scope().id, parent, group,
                           paging=PageRequest(page, PER_PAGE), skip=skip)
    extra = None
    if include is not None and skip is None and page == 1 and all(
        node.tag.id != include.id for node in result.items
    ):
        extra = tree_nodes([include])[0]
        skip = include.id
    branch = Branch(result, extra)
    if branch.remaining:
        branch = Branch(result, extra, _branch_url(parent, group, page + 1, skip))
    return branch


def open_chain(chain: list[Tag], *, expand_last: bool) -> dict[int, Branch]:
    """Expand each tag of ``chain`` (a root-to-leaf path) so the next one shows."""
    branches: dict[int, Branch] = {}
    for index, tag in enumerate(chain):
        following = chain[index + 1] if index + 1 < len(chain) else None
        if following is None and not expand_last:
            break
        branch = load_branch(tag, include=following)
        if branch.page.total or branch.extra:  # a leaf is not shown expanded
            branches[tag.id] = branch
    return branches


def build_tree(focus: Tag | None = None, *, expand_focus: bool = True,
               groups: list[GroupRow] | None = None) -> Tree:
    """The tree's sections with the ungrouped roots loaded and, with ``focus``, the path
    to it expanded (and the focused tag too, with ``expand_focus``)."""
    actor, scope = scoped_actor(), current_scope()
    chain = [*ancestors_of(focus), focus] if focus is not None else []
    root = chain[0] if chain else None
    tree = Tree(groups=list_groups(actor, scope.id) if groups is None else groups,
                ungrouped=group_tag_count(actor, scope.id, None),
                focus=focus.id if focus is not None else None)
    tree.sections[None] = load_branch(
        None, None, include=root if root is not None and root.group_id is None else None
    )
    if root is not None and root.group is not None:
        tree.sections[root.group.id] = load_branch(None, root.group, include=root)
    tree.branches = open_chain(chain, expand_last=expand_focus)
    return tree


# --- request helpers --------------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    """A positive whole number small enough to be a row id (else None: ignored)."""
    return integer_key(request.args.get(name, ""))


def _tag(tag_id: str) -> Tag:
    return get_tag(scoped_actor(), current_scope().id, tag_id)


def _authorize(*permissions: Permission) -> None:
    """Refuse a form the user may not use (403) before looking at what was sent."""
    authorize(scoped_actor(), current_scope().id, *permissions)


def _back(tag: Tag | None = None) -> str:
    """The tree, opened at ``tag`` and scrolled to it (plain, non-htmx redirects)."""
    if tag is None:
        return url_for(".index")
    return url_for(".index", open=tag.id, _anchor=f"node-{tag.id}")


def _form_page(form_template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """An inline form: the fragment for htmx, else a page of its own around it."""
    return render_page("hierarchy/action.html", form_template, status,
                       form_template=form_template, **context)


def _changed(template: str, *, target: str, swap: str = "outerHTML",
             push_url: str | None = None, **context: Any) -> tuple[str, int, dict[str, str]]:
    """An htmx answer that replaces ``target`` (the form's own target was its panel)."""
    headers = {"HX-Retarget": target, "HX-Reswap": swap}
    if push_url:
        headers["HX-Push-Url"] = push_url
    return render_template(template, **context), 200, headers


def _away(back: str) -> Any | None:
    """After a change: a redirect to ``back`` for a plain post; for htmx from a page that
    does not show the tree (a branch's own page), a full navigation there, since the parts
    the answer would replace are not on that page.  None: answer with fragments."""
    if not wants_fragment():
        return redirect(back)
    current = request.headers.get("HX-Current-URL")
    if current and urlsplit(current).path != url_for(".index"):
        return "", 200, {"HX-Redirect": back}
    return None


def _ancestor_context(tag: Tag) -> dict[str, Any]:
    """What the out-of-band part of an answer needs: the rows of ``tag``'s ancestors and
    the new count of its section."""
    actor, scope = scoped_actor(), current_scope()
    return {
        "ancestors": tree_nodes(ancestors_of(tag)),
        "section_id": tag.group_id,
        "section_count": group_tag_count(actor, scope.id, tag.group_id),
    }


# --- the tree and its branches ----------------------------------------------------------


@hierarchy.get("/hierarchy")
def index() -> Any:
    actor, scope = scoped_actor(), current_scope()
    focus = None
    wanted = request.args.get("open", "").strip()
    if wanted:
        try:
            focus = get_tag(actor, scope.id, wanted)
        except NotFound:
            flash(f"No live tag {wanted!r}; it may have been deleted or renamed.", "warning")
    groups = list_groups(actor, scope.id)
    form = NewRootForm([row.group for row in groups], formdata=None)
    body, status = render_page("hierarchy/index.html", "hierarchy/_tree_changed.html",
                               tree=build_tree(focus, groups=groups), root_form=form)
    if focus is not None and wants_fragment():  # the "find" box: show the tag it opened
        return body, status, {"HX-Reswap": f"outerHTML show:#node-{focus.id}:top"}
    return body, status


@hierarchy.get("/hierarchy/roots")
def roots() -> Any:
    """A page of the root tags of a group (``?group=<id>``) or of no group."""
    actor, scope = scoped_actor(), current_scope()
    group_id = _int_arg("group")
    group = get_group(actor, scope.id, group_id) if group_id else None
    branch = load_branch(None, group, page=_int_arg("page") or 1, skip=_int_arg("skip"))
    return render_page("hierarchy/branch.html", "hierarchy/_branch.html", branch=branch,
                       tree=Tree(), parent=None, group=group, chain=[])


@hierarchy.get("/hierarchy/<tag_id>/children")
def children(tag_id: str) -> Any:
    tag = _tag(tag_id)
    branch = load_branch(tag, page=_int_arg("page") or 1, skip=_int_arg("skip"))
    return render_page("hierarchy/branch.html", "hierarchy/_branch.html", branch=branch,
                       tree=Tree(), parent=tag, group=tag.group, chain=ancestors_of(tag))


@hierarchy.get("/hierarchy/find")
def find() -> Any:
    """Suggestions for the "find in tree" box: links that open the tree at a tag."""
    text = request.args.get("open", "").strip()
    found = search_tags(scoped_actor(), current_scope().id, TagFilter(search=text),
                        limit=SUGGESTIONS) if text else []
    return render_template("hierarchy/_find_results.html", found=found, text=text)


# --- add --------------------------------------------------------------------------------


@hierarchy.post("/hierarchy")
def create_root() -> Any:
    _authorize(*CREATE)
    actor, scope = scoped_actor(), current_scope()
    groups = [row.group for row in list_groups(actor, scope.id)]
    form = NewRootForm(groups)
    status = REFUSED_FORM
    if form.validate_on_submit():
        try:
            tag = create_tag(actor, scope.id, TagSpec(name=form.name.data or "",
                                                      group=form.group.data or None))
        except FORM_ERRORS as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            flash(f"Added {tag.qualified_name}.", "success")
            if (away := _away(_back(tag))) is not None:
                return away
            return render_template(
                "hierarchy/_root_created.html", tree=build_tree(tag, expand_focus=False),
                root_form=NewRootForm(groups, formdata=None),
            ), 200
    if wants_fragment():
        return render_template("hierarchy/_root_form.html", root_form=form), status
    return render_template("hierarchy/index.html", tree=build_tree(), root_form=form), status


@hierarchy.route("/hierarchy/<tag_id>/add", methods=["GET", "POST"])
def add_child(tag_id: str) -> Any:
    _authorize(*CREATE)
    actor, scope = scoped_actor(), current_scope()
    tag = _tag(tag_id)
    form = AddChildForm(prefix=node_prefix(tag.id))
    status = 200
    if form.validate_on_submit():
        try:
            created = create_tag(actor, scope.id, TagSpec(name=form.name.data or "",
                                                          parent=tag.id))
        except FORM_ERRORS as error:
            apply_service_error(form, error, {"parent": "name", "group": "name"})
            status = form_status(error)
        else:
            flash(f"Added {created.qualified_name}.", "success")
            if (away := _away(_back(created))) is not None:
                return away
            below = [t for t in ancestors_of(created) if t.depth >= tag.depth]
            tree = Tree(branches=open_chain([*below, created], expand_last=False),
                        focus=created.id)
            return _changed("hierarchy/_node_changed.html", target=f"#node-{tag.id}",
                            changed=tree_nodes([tag])[0], tree=tree, **_ancestor_context(tag))
    elif form.is_submitted():
        status = REFUSED_FORM
    return _form_page("hierarchy/_add_child.html", status, tag=tag, form=form)


# --- rename and move --------------------------------------------------------------------


@hierarchy.route("/hierarchy/<tag_id>/rename", methods=["GET", "POST"])
def rename(tag_id: str) -> Any:
    _authorize(Permission.TAGS_WRITE)
    actor, scope = scoped_actor(), current_scope()
    tag = _tag(tag_id)
    form = RenameForm(prefix=node_prefix(tag.id), data={"name": tag.name})
    status = 200
    if form.validate_on_submit():
        old = tag.qualified_name
        try:
            tag = update_tag(actor, scope.id, tag.id, name=form.name.data or "")
        except FORM_ERRORS as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            flash(f"Renamed {old} to {tag.qualified_name}.", "success")
            if (away := _away(_back(tag))) is not None:
                return away
            return _changed("hierarchy/_row_changed.html", target=f"#row-{tag.id}",
                            node=tree_nodes([tag])[0])
    elif form.is_submitted():
        status = REFUSED_FORM
    return _form_page("hierarchy/_rename.html", status, tag=tag, form=form)


@hierarchy.route("/hierarchy/<tag_id>/move", methods=["GET", "POST"])
def move(tag_id: str) -> Any:
    _authorize(Permission.TAGS_WRITE)
    actor, scope = scoped_actor(), current_scope()
    tag = _tag(tag_id)
    form = MoveForm(prefix=node_prefix(tag.id))
    status = 200
    if form.validate_on_submit():
        old = tag.qualified_name
        try:
            tag = update_tag(actor, scope.id, tag.id, parent=_new_parent(form))
        except FORM_ERRORS as error:
            apply_service_error(form, error, {"group": "parent", "name": "parent",
                                              "exclusive": "parent", "allowed_types": "parent"})
            status = form_status(error)
        else:
            flash(f"Moved {old} to {tag.qualified_name}.", "success")
            if (away := _away(_back(tag))) is not None:
                return away
            return _changed("hierarchy/_tree_changed.html", target="#tree",
                            swap=f"outerHTML show:#node-{tag.id}:top",
                            push_url=url_for(".index", open=tag.id),
                            tree=build_tree(tag, expand_focus=False))
    elif form.is_submitted():
        status = REFUSED_FORM
    return _form_page("hierarchy/_move.html", status, tag=tag, form=form,
                      targets=_targets(tag, ""))


def _new_parent(form: MoveForm) -> int | None:
    """The chosen parent's id (None: make a root). A typed path is looked up as a path,
    never as an id, and must name a live tag."""
    if form.make_root.data:
        return None
    if form.target.data:
        target = form.target.data.strip()
        if not target.isdigit():
            raise ValidationFailed.field("parent", "pick a tag from the list")
        return int(target)
    text = (form.parent.data or "").strip()
    found = find_tag(current_scope().id, text, reading=Reading.NAME)
    if found is None:
        raise ValidationFailed.field("parent", f"no tag has the path {text!r}")
    return found.id


def _targets(tag: Tag, text: str) -> list[Tag]:
    return move_targets(scoped_actor(), current_scope().id, tag, text, limit=SUGGESTIONS)


@hierarchy.get("/hierarchy/<tag_id>/move/targets")
def move_picker(tag_id: str) -> Any:
    """The move picker's suggestions for what was typed (``n<id>-parent``)."""
    _authorize(Permission.TAGS_WRITE)
    tag = _tag(tag_id)
    form = MoveForm(prefix=node_prefix(tag.id), formdata=None)
    text = request.args.get(form.parent.name, "").strip()
    return render_template("hierarchy/_move_targets.html", tag=tag, form=form,
                           targets=_targets(tag, text), text=text)


# --- delete -----------------------------------------------------------------------------


@hierarchy.route("/hierarchy/<tag_id>/delete", methods=["GET", "POST"])
def delete(tag_id: str) -> Any:
    """GET: what deleting the subtree takes with it; POST: delete it."""
    _authorize(Permission.TAGS_DELETE)
    actor, scope = scoped_actor(), current_scope()
    tag = _tag(tag_id)
    summary = subtree_summary(actor, scope.id, tag.id)
    form = ConfirmForm(prefix=node_prefix(tag.id))
    if form.validate_on_submit():
        deleted = delete_tag(actor, scope.id, tag.id, hierarchy=True)
        flash(f"Deleted {tag.qualified_name}: {_count(len(deleted), 'tag')} and "
              f"{_count(summary.assignments, 'assignment')}.", "success")
        back = url_for(".index", open=tag.parent_id) if tag.parent_id else url_for(".index")
        if (away := _away(back)) is not None:
            return away
        return _changed("hierarchy/_node_deleted.html", target=f"#node-{tag.id}",
                        **_ancestor_context(tag))
    return _form_page("hierarchy/_delete.html", REFUSED_FORM if form.is_submitted() else 200,
                      tag=tag, form=form, summary=summary,
                      listing=subtree_listing(actor, scope.id, tag),
                      locked=protected_in_subtree(actor, scope.id, tag))


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@hierarchy.app_template_filter("hierarchy_count")
def hierarchy_count(number: int, noun: str) -> str:
    """``{{ 3 | hierarchy_count("tag") }}`` → ``3 tags``."""
    return _count(number, noun)


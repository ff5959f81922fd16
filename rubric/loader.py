"""Reading and writing rubric YAML files.

The format (one file per edition; UTF-8; ``#`` comments are free)::

    id: cs-supervision              # letters, digits, - and _; the same for every edition
    edition: 2                      # whole number from 1 up
    title: 物业客户服务督导评分细则
    scoring:                        # optional; every key optional, defaults shown
      mode: percentage              # or `deduction` (扣分制, see rubric.scoring)
      answers:                      # share of a clause's points each answer earns
        ok: 1                       #   符合: always 1
        partial: 0.5                #   基本符合: 0..1
        fail: 0                     #   不符合: 0..partial
        na: null                    #   不适用: always null = left out of the score
      grades:                       # highest first; the last must have min 0
        - {label: 优秀, min: 90}
        - {label: 良好, min: 80}
        - {label: 合格, min: 70}
        - {label: 不合格, min: 0}    #   the last band is also the grade a veto forces
      evidence_required: true       # 基本符合/不符合 answers need a note or a photo
      category_budget: 10           # deduction mode only; absent = sum of the category's points
      na_reason_required: true      # 不适用 needs a note saying why (default false)
      min_coverage: 60              # percent of clauses answered and applicable; below it the
                                    #   inspection is marked incomplete for managers (default none)
    sections:
      - title: 内部管理              # 一、内部管理
        categories:
          - title: 制度建设          # (一)制度建设
            budget: 5               # optional, deduction mode: overrides category_budget
            clauses:
              - 有完善的内部管理制度……   # a plain string: points 1, no flags
              - text: 公众制度及时更新……
                points: 2           # any number from 0 up (default 1)
                veto: true          # 不符合 here caps the grade at the last band; veto
                                    #   clauses always need evidence for a finding
              - text: 说话语气语调适中
                evidence_required: false   # per clause; absent = scoring.evidence_required
      - title: 其他业务              # a section may have no categories yet
        categories: []

Sections, categories and clauses are numbered 1, 2, 3… in file order, which gives the clause ids
(``2.3.4``) and codes (``二(三)4``). Any of them may carry ``number:`` to skip numbers, so deleting a
clause need not renumber the ones after it; numbers must increase. Unknown keys, duplicate keys,
empty texts, negative points and inconsistent grade bands are errors (see rubric.validator).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rubric.errors import Issue, RubricLoadError, RubricValidationError
from rubric.model import Rubric
from rubric.validator import check_document


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _IndentedDumper(yaml.SafeDumper):
    """Indents lists under their key, which is how people write YAML by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RubricValidationError([Issue(source, where, f"not valid YAML: {problem}")]) from exc


def rubric_from_document(data: Any, source: str) -> Rubric:
    """Validate a parsed document and build the rubric; RubricValidationError lists every problem."""
    rubric, issues = check_document(data, source)
    if rubric is None:
        raise RubricValidationError(issues)
    return rubric


def load_rubric_text(text: str, source: str = "<string>") -> Rubric:
    return rubric_from_document(parse_yaml(text, source), source)


def load_rubric(path: str | Path) -> Rubric:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricLoadError(f"{path}: cannot read: {exc}") from exc
    return load_rubric_text(text, str(path))


def dump_yaml(rubric: Rubric, header: str | None = None) -> str:
    """The rubric as a YAML file; ``header`` lines become ``#`` comments at the top."""
    body = yaml.dump(
        rubric.to_dict(),
        Dumper=_IndentedDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=10_000,  # one clause per line, however long
    )
    if not header:
        return body
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + body


def edition_file_name(rubric: Rubric) -> str:
    return f"{rubric.id}.v{rubric.edition}.yaml"

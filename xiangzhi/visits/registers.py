"""The visit register (走访台账): one row per visit, for print and the Excel export."""

from __future__ import annotations

from xiangzhi.core.registers import Column, Register

VISITS = Register(
    title="走访台账",
    columns=[
        Column("no", "序号", accessor="#", width=6),
        Column("visited_on", "日期", accessor="visited_on", width=12),
        Column("cadre", "走访干部", accessor=lambda v, ctx: v.cadre.name, width=10),
        Column("kind", "方式", accessor=lambda v, ctx: v.get_kind_display(), width=10),
        Column("place", "村/网格", accessor=lambda v, ctx: v.place, width=18),
        Column("households", "走访农户（户主）", accessor=lambda v, ctx: "、".join(v.head_names), width=24),
        Column("group", "村民小组", accessor="group_name", width=12),
        Column(
            "attendees", "参加人数", accessor=lambda v, ctx: v.attendees if v.kind == "bench_meeting" else None, width=8
        ),
        Column("summary", "走访内容", accessor="summary", width=40),
        Column("problems", "发现问题（个）", accessor=lambda v, ctx: v.problem_count, width=10),
        Column("to_case", "转为事项（件）", accessor=lambda v, ctx: v.to_case_count, width=10),
        Column("solved", "已解决（件）", accessor=lambda v, ctx: v.solved_count, width=10),
    ],
)

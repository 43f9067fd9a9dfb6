"""The communication section's texts (tracekit/report/html/communication.py), English and Chinese;
merged into the report's STRINGS (i18n.py)."""

from __future__ import annotations

COMMUNICATION_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "sec.communication": "Communication",
        "comm.intro": "Device {device}: each instant of W counted once (compute > communication > copies > "
        "idle), how much of the communication runs under compute, and the collectives by type.",
        "comm.split": "Split of W",
        "comm.part": "part",
        "comm.time": "time",
        "comm.share": "share of W",
        "comm.compute": "compute",
        "comm.communication": "communication (not under compute)",
        "comm.copies": "copies (not under compute or communication)",
        "comm.idle": "idle",
        "comm.window": "window W",
        "comm.total": "communication (union)",
        "comm.overlap": "overlap ratio (under compute)",
        "comm.exposed": "exposed communication",
        "comm.collectives": "Collectives by type",
        "comm.type": "type",
        "comm.sum": "time (sum)",
        "comm.busy": "busy (union)",
        "comm.algbw": "algbw (GB/s)",
        "comm.busbw": "busbw (GB/s)",
    },
    "zh": {
        "sec.communication": "通信",
        "comm.intro": "设备 {device}：W 的每一时刻只计一次（计算 > 通信 > 拷贝 > 空闲），通信有多少被计算掩盖，"
        "以及按类型统计的集合通信。",
        "comm.split": "W 的划分",
        "comm.part": "部分",
        "comm.time": "时间",
        "comm.share": "占 W 比例",
        "comm.compute": "计算",
        "comm.communication": "通信（未被计算覆盖）",
        "comm.copies": "拷贝（未被计算或通信覆盖）",
        "comm.idle": "空闲",
        "comm.window": "窗口 W",
        "comm.total": "通信（并集）",
        "comm.overlap": "重叠比例（被计算掩盖）",
        "comm.exposed": "未掩盖通信",
        "comm.collectives": "按类型统计的集合通信",
        "comm.type": "类型",
        "comm.sum": "时间（总和）",
        "comm.busy": "占用（并集）",
        "comm.algbw": "算法带宽（GB/s）",
        "comm.busbw": "总线带宽（GB/s）",
    },
}

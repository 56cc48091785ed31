"""Demo data of the IMDRF app: a working Chinese translation of the top-level terms of Annexes
A, E, F and G, so the bilingual pages and the search in Chinese have something to show.

These are the project's own working translations for demonstration, NOT an official Chinese
version of the IMDRF terminology: a company loads its reviewed translation with
`medvigil imdrf translations --file` (docs/imdrf.md)."""

from __future__ import annotations

from medvigil.core.audit import audit_context

from .models import Term

DEMO_ZH = {
    "A01": "患者与器械相互作用问题",
    "A02": "生产、包装或运输问题",
    "A03": "化学问题",
    "A04": "材料完整性问题",
    "A05": "机械问题",
    "A06": "光学问题",
    "A07": "电气/电子性能问题",
    "A08": "校准问题",
    "A09": "输出问题",
    "A10": "温度问题",
    "A11": "计算机软件问题",
    "A12": "连接问题",
    "A13": "通讯或传输问题",
    "A14": "输注或流动问题",
    "A15": "激活、定位或分离问题",
    "A16": "防护措施问题",
    "A17": "兼容性问题",
    "A18": "污染/去污问题",
    "A19": "环境兼容性问题",
    "A20": "安装相关问题",
    "A21": "标签、使用说明或培训问题",
    "A22": "人机界面问题",
    "A23": "器械使用问题",
    "A24": "未发现器械或使用问题的不良事件",
    "A25": "无明显不良事件",
    "A26": "信息不足",
    "A27": "无适用的术语/代码",
    "E01": "神经系统",
    "E02": "精神、情绪和行为障碍",
    "E03": "血液和淋巴系统",
    "E04": "免疫系统",
    "E05": "血管系统",
    "E06": "心脏",
    "E07": "呼吸系统",
    "E08": "眼",
    "E09": "耳和迷路",
    "E10": "胃肠系统",
    "E11": "肝胆系统",
    "E12": "内分泌、代谢和营养",
    "E13": "肾脏和泌尿道",
    "E14": "生殖系统和乳腺",
    "E15": "妊娠、分娩和产褥期",
    "E16": "肌肉骨骼系统",
    "E17": "皮肤和皮下组织",
    "E18": "良性、恶性和未明确的肿瘤",
    "E19": "感染",
    "E20": "损伤",
    "E21": "手术并发症",
    "E22": "检查和诊断试验",
    "E23": "全身性疾病",
    "E24": "其他",
    "F01": "治疗反应改变",
    "F02": "死亡",
    "F03": "脑死亡",
    "F04": "诊断延误",
    "F05": "治疗延误",
    "F06": "后续医疗程序中断",
    "F07": "原有病情加重",
    "F08": "住院或住院时间延长",
    "F09": "胎儿伤害",
    "F10": "治疗或诊断暴露不足/不当",
    "F11": "轻微伤害/疾病/损伤",
    "F12": "严重伤害/疾病/损伤",
    "F13": "误诊/错误分类",
    "F14": "诊疗期延长",
    "F15": "已知的器械或手术并发症",
    "F16": "预期寿命缩短",
    "F17": "镇静",
    "F18": "康复",
    "F19": "外科干预",
    "F20": "严重公共卫生威胁",
    "F21": "意外恶化",
    "F22": "意外的诊断干预",
    "F23": "意外的医疗干预",
    "F24": "信息不足",
    "F25": "非预期的器械不良作用",
    "F26": "无健康后果或影响",
    "F27": "未涉及患者",
    "F28": "无适用的术语/代码",
    "G01": "生物和化学",
    "G02": "电气和磁性",
    "G03": "测量",
    "G04": "机械",
    "G05": "光学",
    "G06": "安全",
    "G07": "其他",
}


def load_demo() -> None:
    """Fill the Chinese term where none is set (an administrator's text is kept)."""
    with audit_context(source="demo", reason="IMDRF demo translation (unofficial)"):
        todo = list(Term.objects.filter(code__in=list(DEMO_ZH), term_zh=""))
        for term in todo:
            term.term_zh = DEMO_ZH[term.code]
        if todo:
            Term.objects.bulk_update(todo, ["term_zh"])

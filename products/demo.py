"""Demo catalog: the report's 3,859 listed products and the weather board's 834.

Products carry Chinese titles, the six manual sections, tags, a sample and
plans priced for their delivery mode; besides the listed ones there are
drafts (some sent back by a reviewer), products waiting for or in review,
suspended and delisted ones. Each went through the story the review rules
impose (created, submitted, reviewed, listed; important-grade data approved
by two operators), written set-based as the services record it: events,
reviews, the listed version, registration numbers in listing order.
Public-data products are the grantees', under their grant and scenarios.
"""

import datetime as dt
import itertools
import math
from typing import Any

from accounts.models import Merchant
from core.demo import REPORT, DemoContext, Table, scaled
from products.models import (
    PricingPlan,
    Product,
    ProductEvent,
    ProductReview,
    ProductVersion,
    RegistrationCounter,
)
from products.services import board_save
from products.services.registration import format_registration_number
from publicdata.models import Department

# The tables this seeder writes in bulk: their indexes and foreign keys are built
# after the load (core.demo.BulkLoad).
BULK_MODELS = (Product, PricingPlan, ProductEvent, ProductReview, ProductVersion)

AREAS = [
    "湖南省",
    "长沙市",
    "株洲市",
    "湘潭市",
    "衡阳市",
    "邵阳市",
    "岳阳市",
    "常德市",
    "张家界市",
    "益阳市",
    "郴州市",
    "永州市",
    "怀化市",
    "娄底市",
    "湘西州",
    "长株潭",
    "洞庭湖区",
    "湘江流域",
]
EDITIONS = [
    "",
    "（标准版）",
    "（专业版）",
    "（县级精度）",
    "（1公里网格）",
    "（历史全量）",
    "（增量更新）",
    "（企业版）",
    "（2024版）",
    "（2025版）",
    "（高频版）",
    "（轻量版）",
]

# industry -> [(title after the area, delivery mode, fields, tags, update frequency)]
CATALOG = {
    "weather": [
        (
            "逐小时地面气象观测数据",
            "file",
            "站号, 时间, 气温, 降水, 风向, 风速, 湿度",
            "地面观测, 逐小时",
            "每小时",
        ),
        (
            "区域自动站分钟级观测数据",
            "file",
            "站号, 时间, 气温, 降水, 气压",
            "自动站, 分钟级",
            "每分钟",
        ),
        (
            "精细化格点天气预报接口",
            "api",
            "格点, 起报时间, 时效, 气温, 降水",
            "格点预报, 接口",
            "每日",
        ),
        ("短临降水预报服务", "api", "格点, 时间, 降水量, 概率", "短临预报, 降水", "每10分钟"),
        ("雷达组合反射率拼图数据", "file", "时次, 经纬度, 反射率", "雷达, 拼图", "每6分钟"),
        ("气象灾害预警信号推送接口", "api", "预警类型, 级别, 区域, 发布时间", "预警, 推送", "实时"),
        ("高温热浪风险评估报告", "report", "区域, 时段, 风险等级, 建议", "高温, 风险评估", "每年"),
        ("农业干旱气象监测报告", "report", "区域, 旬次, 干旱指数, 建议", "干旱, 农业气象", "每旬"),
        ("风能资源评估模型", "model", "坐标, 高度, 平均风速, 风功率密度", "风电, 资源评估", "按需"),
        ("光伏发电功率预测模型", "model", "电站, 时间, 辐照度, 预测功率", "光伏, 功率预测", "每日"),
        ("电力线路覆冰风险预报", "api", "线路, 时段, 覆冰厚度, 风险等级", "电网, 覆冰", "每日"),
        ("交通气象路况预报接口", "api", "路段, 时间, 能见度, 路面状态", "交通气象, 路况", "每小时"),
        (
            "历史气候再分析数据集",
            "file",
            "格点, 日期, 气温, 降水, 风场",
            "再分析, 历史气候",
            "每年",
        ),
        ("雷电监测定位数据", "file", "时间, 经纬度, 强度, 极性", "雷电, 定位", "实时"),
        ("暴雨内涝风险格点数据", "file", "格点, 重现期, 积水深度", "暴雨, 内涝", "每年"),
        ("农作物霜冻预警服务", "api", "区域, 日期, 最低气温, 霜冻等级", "霜冻, 农业", "每日"),
        ("气候年景评估报告", "report", "年度, 气温, 降水, 极端事件", "气候评估, 年景", "每年"),
        ("气象指数保险计算服务", "model", "区域, 作物, 指数, 赔付比例", "气象指数, 保险", "按需"),
    ],
    "transport": [
        ("道路交通流量统计数据", "file", "路段, 时段, 车型, 流量", "交通流量, 路网", "每小时"),
        ("公交实时到站预测接口", "api", "线路, 站点, 预计到站时间", "公交, 到站预测", "实时"),
        ("货运车辆轨迹分析报告", "report", "区域, 月份, 车次, 热点线路", "货运, 物流", "每月"),
        ("停车场实时余位接口", "api", "停车场, 时间, 空余泊位", "停车, 静态交通", "实时"),
        ("港口集装箱吞吐量数据", "file", "港口, 月份, 吞吐量, 航线", "港口, 集装箱", "每月"),
        ("通勤出行OD分析模型", "model", "起点, 终点, 时段, 出行量", "通勤, OD", "每季度"),
        ("网约车供需热力数据", "file", "网格, 时段, 需求量, 运力", "网约车, 热力", "每小时"),
    ],
    "healthcare": [
        (
            "医疗机构服务能力分析报告",
            "report",
            "机构, 科室, 床位, 门诊量",
            "医疗资源, 分析",
            "每季度",
        ),
        ("药品流通价格监测数据", "file", "药品, 规格, 渠道, 价格, 日期", "药品, 价格", "每周"),
        ("慢病风险预测模型", "model", "年龄段, 指标, 风险评分", "慢病, 风险预测", "每季度"),
        ("医保结算统计数据", "file", "统筹区, 月份, 结算人次, 金额", "医保, 结算", "每月"),
        (
            "区域疾病谱隐私计算服务",
            "privacy_computing",
            "病种, 区域, 人群, 统计结果",
            "疾病谱, 隐私计算",
            "按需",
        ),
        ("健康体检指标统计报告", "report", "指标, 人群, 异常率", "体检, 统计", "每年"),
    ],
    "finance": [
        (
            "中小企业信用评分模型",
            "model",
            "统一社会信用代码, 评分, 等级",
            "信用评分, 小微企业",
            "每月",
        ),
        (
            "企业经营风险监测接口",
            "api",
            "统一社会信用代码, 风险事件, 时间",
            "风险监测, 企业",
            "每日",
        ),
        (
            "供应链金融联合建模服务",
            "privacy_computing",
            "核心企业, 上下游, 交易特征",
            "供应链金融, 联合建模",
            "按需",
        ),
        ("普惠金融区域景气指数", "report", "区域, 月份, 景气指数", "普惠金融, 指数", "每月"),
        ("企业工商司法信息核验接口", "api", "统一社会信用代码, 核验结果", "核验, 工商", "实时"),
        ("反欺诈风险特征数据", "file", "特征编号, 特征值, 更新日期", "反欺诈, 风控", "每日"),
    ],
    "natural-resources": [
        ("实景三维城市模型数据", "file", "图幅, 分辨率, 纹理, 生产日期", "实景三维, 测绘", "每年"),
        ("土地利用现状分类数据", "file", "图斑, 地类, 面积", "土地利用, 国土", "每年"),
        ("地质灾害风险评估报告", "report", "区域, 隐患点, 风险等级", "地质灾害, 评估", "每年"),
        ("遥感影像解译服务", "api", "影像, 地物类别, 置信度", "遥感, 解译", "按需"),
        ("不动产登记状态核验接口", "api", "不动产单元号, 登记状态", "不动产, 核验", "实时"),
        ("林草资源监测数据", "file", "小班, 树种, 蓄积量", "林草, 监测", "每年"),
    ],
    "culture": [
        ("景区客流监测数据", "file", "景区, 时间, 客流量", "客流, 景区", "每小时"),
        ("文物数字化三维模型", "file", "文物编号, 模型, 纹理", "文物, 三维", "按需"),
        ("文旅消费分析报告", "report", "区域, 月份, 消费额, 客源地", "文旅, 消费", "每月"),
        ("游客画像分析接口", "api", "景区, 客群, 标签", "游客画像, 文旅", "每日"),
        ("非遗资源数据库", "file", "项目, 类别, 传承人, 地区", "非遗, 文化", "每年"),
    ],
    "agriculture": [
        ("水稻种植面积遥感监测数据", "file", "区域, 年度, 面积, 长势", "水稻, 遥感", "每季度"),
        ("农产品价格行情数据", "file", "品种, 市场, 日期, 价格", "农产品, 价格", "每日"),
        ("土壤墒情监测接口", "api", "站点, 深度, 含水量, 时间", "墒情, 土壤", "每日"),
        ("病虫害预测模型", "model", "区域, 作物, 病虫害, 发生概率", "病虫害, 预测", "每周"),
        ("生猪产能监测报告", "report", "区域, 月份, 存栏, 出栏", "生猪, 产能", "每月"),
    ],
    "energy": [
        ("电力消费指数数据", "file", "行业, 区域, 月份, 用电量", "电力, 消费指数", "每月"),
        ("变电站负荷曲线数据", "file", "站点, 时刻, 负荷", "电网, 负荷", "每15分钟"),
        ("企业用能画像分析接口", "api", "企业, 用能等级, 趋势", "用能, 画像", "每月"),
        ("新能源消纳预测模型", "model", "区域, 时段, 预测出力", "新能源, 消纳", "每日"),
        ("充电桩运行监测数据", "file", "站点, 时间, 充电量, 利用率", "充电桩, 监测", "每小时"),
    ],
    "manufacturing": [
        ("设备故障预测模型", "model", "设备, 传感器, 故障概率", "预测性维护, 工业互联网", "每日"),
        ("工业园区产值监测报告", "report", "园区, 月份, 产值, 增速", "园区, 产值", "每月"),
        (
            "工程机械开工指数数据",
            "file",
            "区域, 月份, 开工率, 工作时长",
            "工程机械, 开工指数",
            "每月",
        ),
        ("供应链协同数据服务", "api", "物料, 供应商, 交付周期", "供应链, 协同", "每日"),
        ("产品质量追溯数据", "file", "批次, 工序, 检测结果", "质量追溯, 制造", "每日"),
    ],
    "commerce": [
        ("商圈客流与消费数据", "file", "商圈, 时段, 客流, 消费额", "商圈, 消费", "每日"),
        ("零售门店选址评估模型", "model", "地块, 人口, 竞品, 评分", "选址, 零售", "按需"),
        ("电商交易景气报告", "report", "品类, 月份, 交易额", "电商, 景气", "每月"),
        ("品牌舆情监测接口", "api", "品牌, 渠道, 情感倾向", "舆情, 品牌", "每小时"),
    ],
    "technology": [
        ("人工智能训练数据集（中文语料）", "file", "文本, 领域, 标注", "语料, 训练数据", "每季度"),
        ("图像标注数据集", "file", "图像, 类别, 标注框", "数据标注, 图像", "每月"),
        ("数据清洗与治理服务", "api", "源数据, 规则, 治理结果", "数据治理, 清洗", "按需"),
        ("隐私求交计算服务", "privacy_computing", "样本标识, 求交结果", "隐私计算, 求交", "按需"),
        (
            "联邦学习建模平台服务",
            "privacy_computing",
            "参与方, 特征, 模型指标",
            "联邦学习, 隐私计算",
            "按需",
        ),
        ("数据质量评估报告", "report", "数据集, 维度, 评分", "数据质量, 评估", "按需"),
        ("企业数据资产评估模型", "model", "数据集, 成本, 收益, 估值", "数据资产, 入表", "按需"),
    ],
}
INDUSTRY_SHARES = {
    "transport": 0.14,
    "finance": 0.16,
    "healthcare": 0.09,
    "natural-resources": 0.10,
    "culture": 0.06,
    "agriculture": 0.08,
    "energy": 0.08,
    "manufacturing": 0.10,
    "commerce": 0.07,
    "technology": 0.12,
}
SOURCE_TEXT = {
    "weather": "湖南省气象局授权的地面观测站网、天气雷达与数值预报产品，经{provider}质量控制与加工形成",  # noqa: E501
    "own": "{provider}自有业务系统与采集设备产生的数据，经清洗、脱敏与标准化处理",
    "consent": "经数据主体授权同意采集的数据，由{provider}去标识化处理后汇聚",
    "public": "依授权运营协议使用的公共数据，在数据提供方域内加工，仅输出结果",
}
MODE_VOLUME = {  # bytes: (low, high) of a log-uniform draw
    "file": (5 * 10**9, 8 * 10**12),
    "api": (10**8, 5 * 10**11),
    "report": (10**6, 5 * 10**8),
    "model": (10**9, 2 * 10**11),
    "privacy_computing": (10**9, 10**12),
}
REJECTION = "说明书“数据内容”未逐字段说明，样例与描述字段不一致，请补充后重新提交。"
ALL_TICKED = {
    "compliance_checklist": {
        "source_lawful": True,
        "personal_information": True,
        "grade_confirmed": True,
        "usage_restrictions": True,
        "public_data_rules": True,
    },
    "quality_checklist": {
        "manual_complete": True,
        "sample_matches": True,
        "coverage_stated": True,
        "pricing_clear": True,
    },
}


def _log_uniform(rng, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _yuan(rng, low: float, high: float, step: int = 100) -> int:
    """A price in fen, log-uniform between `low` and `high` yuan, rounded to `step` yuan."""
    value = _log_uniform(rng, low, high)
    return max(step, round(value / step) * step) * 100


def plans_for(rng, mode: str, *, free: bool = False, ceiling_fen: int | None = None) -> list[dict]:
    """Plans priced for the delivery mode, as merchants of the kind price them."""
    if free:
        return [{"name": "公益服务（免费）", "kind": "free"}]
    plans: list[dict[str, Any]] = []
    if mode == "file":
        price = _yuan(rng, 3_000, 400_000)
        plans.append({"name": "全量数据一次性购买", "kind": "one_off", "price_fen": price})
        if rng.random() < 0.3:
            plans.append(
                {
                    "name": "年度更新订阅",
                    "kind": "subscription",
                    "period": "year",
                    "price_fen": price * 6 // 10 // 10000 * 10000 or 10000,
                }
            )
    elif mode == "api":
        month = _yuan(rng, 500, 8_000, step=10)
        plans.append(
            {"name": "年度订阅", "kind": "subscription", "period": "year", "price_fen": month * 10}
        )
        if rng.random() < 0.6:
            plans.append(
                {"name": "按月订阅", "kind": "subscription", "period": "month", "price_fen": month}
            )
        if rng.random() < 0.35:
            plans.append(
                {
                    "name": "按次计费",
                    "kind": "metered",
                    "unit_price_fen": rng.choice([2, 5, 10, 20, 50, 100, 200]),
                    "included_calls": rng.choice([1000, 5000, 10000]),
                    "monthly_cap_fen": month * 2,
                }
            )
    elif mode == "report":
        plans.append(
            {"name": "报告购买", "kind": "one_off", "price_fen": _yuan(rng, 2_000, 60_000)}
        )
    elif mode == "model":
        plans.append(
            {
                "name": "模型授权（一次性）",
                "kind": "one_off",
                "price_fen": _yuan(rng, 50_000, 800_000, step=1000),
            }
        )
        if rng.random() < 0.4:
            plans.append(
                {
                    "name": "模型年度服务",
                    "kind": "subscription",
                    "period": "year",
                    "price_fen": _yuan(rng, 30_000, 300_000, step=1000),
                }
            )
    else:  # privacy computing
        plans.append(
            {
                "name": "联合计算年度服务",
                "kind": "subscription",
                "period": "year",
                "price_fen": _yuan(rng, 100_000, 1_500_000, step=1000),
            }
        )
        if rng.random() < 0.5:
            plans.append(
                {
                    "name": "单次计算任务",
                    "kind": "one_off",
                    "price_fen": _yuan(rng, 30_000, 300_000, step=1000),
                }
            )
    if ceiling_fen is not None:
        for plan in plans:
            for field in ("price_fen", "unit_price_fen", "monthly_cap_fen"):
                if plan.get(field):
                    plan[field] = min(plan[field], ceiling_fen)
    return plans


def _manual(rng, *, title, area, provider, source, fields, frequency, since, public) -> dict:
    restriction = (
        "仅以结果形式交付，原始数据不出域、数据可用不可见；仅用于授权场景，不得转售或用于识别特定个人。"
        if public
        else "仅限买方内部分析与自身业务使用，不得转售、公开发布或用于识别特定个人。"
    )
    return {
        "manual_data_source": SOURCE_TEXT[source].format(provider=provider) + "。",
        "manual_content": f"{title}，字段：{fields}。每个字段的含义、单位与取值范围见附表。",
        "manual_coverage": f"{area}，{since.year}年{since.month}月至今。",
        "manual_update_frequency": f"{frequency}更新。",
        "manual_quality": (
            f"完整率不低于{rng.choice(['98', '99', '99.5'])}%，每批次经格式、范围与一致性校验，"
            "缺测值以标记注明。"
        ),
        "manual_usage_restrictions": restriction,
    }


def _sample(fields: str, rng) -> str:
    names = [f.strip() for f in fields.split(",")]
    rows = [",".join(names)]
    for _ in range(2):
        rows.append(",".join(str(rng.randrange(1, 1000)) for _ in names))
    return "\n".join(rows)


def seed(context: DemoContext) -> None:
    rng = context.rng_for("products")
    operator = context.made["operator"]
    second = context.made["second_operator"]
    industries = context.made["industries"]
    departments = context.made["departments"]
    weather_board = board_save(
        actor=operator,
        code="weather",
        name="湖南气象数据交易专板",
        name_en="Hunan weather data trading board",
        description="与湖南省气象局共同运营的气象数据交易专板（气象数据交易专板）。",
        department=Department.objects.get(pk=departments["HN-QX"]),
        industries=[industries["weather"]],
    )
    context.made["weather_board"] = weather_board.pk

    merchants = [m for m in context.made["merchants"] if m[4] == "active"]
    person = context.made["merchant_person"]
    approved_at = {m[0]: m[5] for m in merchants}
    names = dict(Merchant.objects.values_list("id", "legal_name"))
    named = context.made["named_merchants"]
    weather_merchants = [m[0] for m in merchants if m[2] == "weather"]
    sellers = [
        m for m in merchants if m[2] != "weather" and ("supplier" in m[3] or "technical" in m[3])
    ]
    sellers = sellers or merchants
    # A few merchants sell most: weights fall off with rank.
    seller_weights = [1 / (i + 1) ** 0.8 for i in range(len(sellers))]
    # Cumulative once: choices() with plain weights sums them on every call, which
    # at 100 times the scale (385,900 picks over 43,300 sellers) takes many minutes.
    seller_cumulative = list(itertools.accumulate(seller_weights))
    rng.shuffle(sellers)

    listed = scaled(REPORT["listed_products"], context.scale, minimum=20)
    weather_listed = min(scaled(REPORT["weather_products"], context.scale, minimum=5), listed // 2)
    other_status = {
        "draft": max(1, round(listed * 0.05)),
        "submitted": max(1, round(listed * 0.01)),
        "in_review": max(1, round(listed * 0.015)),
        "suspended": max(1, round(listed * 0.012)),
        "delisted": max(1, round(listed * 0.03)),
    }
    history_start = context.today - dt.timedelta(days=30 * 18)
    first_listing = history_start - dt.timedelta(days=60)

    specs = []  # dict per product

    def add(
        status,
        industry,
        provider,
        *,
        board=None,
        source="own",
        grant=None,
        scenarios=(),
        mode=None,
        template=None,
        free=False,
    ):
        specs.append(
            dict(
                status=status,
                industry=industry,
                provider=provider,
                board=board,
                source=source,
                grant=grant,
                scenarios=list(scenarios),
                mode=mode,
                template=template,
                free=free,
            )
        )

    # Public-data products: the grantee's, under its grant and authorized scenarios.
    public_count = 0
    for key, grant in context.made["grants"].items():
        scenarios = context.made["scenarios"].get(key, [])
        industry_code = "weather" if key == "weather" else None
        for scenario in scenarios:
            free = scenario.purpose == "public_interest"
            mode = rng.choice(["api", "api", "report", "privacy_computing"])
            add(
                "listed",
                grant.industry.code,
                grant.grantee_id,
                board=weather_board.pk if industry_code == "weather" else None,
                source="public",
                grant=grant,
                scenarios=[scenario],
                mode=mode,
                free=free,
                template=(
                    scenario.name.split("：")[-1] + "服务",
                    mode,
                    "结果字段, 统计口径, 生成时间",
                    "公共数据, 授权运营",
                    "按需",
                ),
            )
            public_count += 1
    weather_public = sum(1 for s in specs if s["board"])
    for _ in range(weather_listed - weather_public):
        provider = (
            named["weather"]
            if rng.random() < 0.35 or not weather_merchants
            else rng.choice(weather_merchants)
        )
        add("listed", "weather", provider, board=weather_board.pk, source="weather")
    for status, count in [("listed", listed - len(specs)), *other_status.items()]:
        for _ in range(count):
            if status != "listed" and rng.random() < weather_listed / listed:
                add(
                    status,
                    "weather",
                    rng.choice(weather_merchants or [named["weather"]]),
                    board=weather_board.pk,
                    source="weather",
                )
                continue
            seller = rng.choices(sellers, cum_weights=seller_cumulative)[0]
            industry = seller[2] if seller[2] in CATALOG and rng.random() < 0.7 else None
            industry = (
                industry
                or rng.choices(list(INDUSTRY_SHARES), weights=list(INDUSTRY_SHARES.values()))[0]
            )
            add(status, industry, seller[0], source="consent" if rng.random() < 0.15 else "own")

    # Weather volume: the board's listed products hold exactly the report's 2,150.4 TB.
    weather_total = round(REPORT["weather_volume_bytes"] * context.scale)
    weather_rows = [s for s in specs if s["board"] and s["status"] == "listed"]
    weights = [_log_uniform(rng, 1, 400) for _ in weather_rows]
    whole = sum(weights)
    given = 0
    for spec, weight in zip(weather_rows, weights, strict=True):
        spec["volume"] = int(weather_total * weight / whole)
        given += spec["volume"]
    if weather_rows:
        weather_rows[-1]["volume"] += weather_total - given

    products = Table(Product)
    plans = Table(PricingPlan)
    events = Table(ProductEvent)
    reviews = Table(ProductReview)
    versions = Table(ProductVersion)
    links = Table(Product.scenarios.through)
    product_ids = context.ids(Product, len(specs))
    listing_order = []  # (listed_at, product id, index)
    progress = context.stage("products", len(specs))
    sellable = []  # (product id, provider, listed_at, mode, board, grant, scenario, plan dicts)
    built = []
    for index, (product_id, spec) in enumerate(zip(product_ids, specs, strict=True)):
        industry = spec["industry"]
        title, mode, fields, tags, frequency = spec["template"] or rng.choice(CATALOG[industry])
        mode = spec["mode"] or mode
        area = rng.choice(AREAS)
        public = spec["source"] == "public"
        full_title = title if public else f"{area}{title}{rng.choice(EDITIONS)}"
        provider = spec["provider"]
        joined = approved_at.get(provider) or context.local(first_listing)
        earliest = max(joined + dt.timedelta(days=3), context.local(first_listing))
        if public:
            earliest = max(earliest, context.made["scenarios_since"] + dt.timedelta(days=3))
        latest = context.local(context.today - dt.timedelta(days=2))
        window = max((latest - earliest).total_seconds(), 3600)
        # More products were listed as the exchange grew (density rising with time).
        listed_at = earliest + dt.timedelta(seconds=window * math.sqrt(rng.random()))
        listed_at = listed_at.replace(microsecond=0)
        created = listed_at - dt.timedelta(days=rng.randrange(3, 20), hours=rng.randrange(8))
        submitted = created + (listed_at - created) * 0.4
        started = submitted + (listed_at - submitted) * 0.3
        status = spec["status"]
        if status in ("draft", "submitted", "in_review"):
            # Still on its way: made in the last weeks.
            listed_at = None
            created = context.local(
                context.today - dt.timedelta(days=rng.randrange(2, 40)),
                rng.randrange(9 * 3600, 18 * 3600),
            )
            submitted = created + dt.timedelta(days=1)
            started = submitted + dt.timedelta(hours=5)
        since = (listed_at or created) - dt.timedelta(days=365 * rng.randrange(1, 6))
        low, high = MODE_VOLUME[mode]
        volume = spec.get("volume") or int(_log_uniform(rng, low, high))
        grade = "important" if not public and rng.random() < 0.04 else "general"
        plan_terms = plans_for(
            rng,
            mode,
            free=spec["free"],
            ceiling_fen=spec["grant"].fee_ceiling_fen if public else None,
        )
        owner = person[provider]
        reviewer = operator.pk if index % 2 else second.pk
        decider = second.pk if grade == "important" else reviewer
        content = dict(
            title=full_title[:200],
            title_en="",
            summary=(f"{names.get(provider, '')}提供的{full_title}，{frequency}更新，覆盖{area}。"),
            summary_en="",
            coverage_start=since.date(),
            coverage_end=None,
            **_manual(
                rng,
                title=full_title,
                area=area,
                provider=names.get(provider, ""),
                source=spec["source"],
                fields=fields,
                frequency=frequency,
                since=since,
                public=public,
            ),
            source_kind="own" if spec["source"] == "weather" else spec["source"],
            grade=grade,
            delivery_mode=mode,
            volume_bytes=volume,
            sample=_sample(fields, rng),
            tags=tags + ("" if public else f", {area}"),
        )
        plan_ids = context.ids(PricingPlan, len(plan_terms))
        plan_rows = []
        for plan_id, terms in zip(plan_ids, plan_terms, strict=True):
            values = {
                "name": "",
                "kind": "",
                "period": "",
                "price_fen": 0,
                "unit_price_fen": 0,
                "included_calls": 0,
                "monthly_cap_fen": None,
                **terms,
            }
            plan_rows.append((plan_id, values))
            plans.add(
                id=plan_id,
                product_id=product_id,
                is_active=status != "delisted",
                created_at=created,
                updated_at=created,
                **values,
            )
        headline = [
            v["unit_price_fen"] if v["kind"] == "metered" else v["price_fen"] for _i, v in plan_rows
        ]
        last_change = listed_at or started
        changes: dict[str, object] = {}
        if status == "suspended" and listed_at is not None:
            last_change = listed_at + (latest - listed_at) * 0.8
            changes = {"suspension_cause": "operator"}
        elif status == "delisted" and listed_at is not None:
            last_change = listed_at + (latest - listed_at) * 0.7
            changes = {
                "delisting_requested_at": last_change - dt.timedelta(days=2),
                "delisting_request_reason": "数据源系统下线，申请下架",
            }
        products.add(
            id=product_id,
            provider_id=provider,
            industry_id=industries[industry],
            board_id=spec["board"],
            version=1,
            status=status,
            registration_number=None,
            listed_at=listed_at,
            min_price_fen=min(headline),
            grant_id=spec["grant"].pk if public else None,
            created_at=created,
            updated_at=last_change,
            **content,
            **changes,
        )
        for scenario in spec["scenarios"]:
            links.add(id=None, product_id=product_id, scenario_id=scenario.pk)
        built.append((product_id, status, listed_at))
        # The story, as the listing services record it.
        story = [("", "draft", owner, "created", created)]
        review_id = None
        if status == "draft" and rng.random() < 0.35:
            review_id = context.ids(ProductReview, 1)[0]
            reviews.add(
                id=review_id,
                product_id=product_id,
                revision_id=None,
                version=1,
                grade=grade,
                required_approvals=2 if grade == "important" else 1,
                submitted_by_id=owner,
                reviewer_id=reviewer,
                review_started_at=started,
                compliance_checklist={},
                quality_checklist={"manual_complete": False, "sample_matches": False},
                verdict="rejected",
                decided_by_id=reviewer,
                decided_at=started + dt.timedelta(hours=3),
                comments=REJECTION,
                created_at=submitted,
                updated_at=started + dt.timedelta(hours=3),
            )
            story += [
                ("draft", "submitted", owner, "submitted for review", submitted),
                ("submitted", "in_review", reviewer, "review started", started),
                ("in_review", "draft", reviewer, REJECTION, started + dt.timedelta(hours=3)),
            ]
        if status != "draft":
            story.append(("draft", "submitted", owner, "submitted for review", submitted))
            review_id = context.ids(ProductReview, 1)[0]
            on_exchange = listed_at is not None
            reviews.add(
                id=review_id,
                product_id=product_id,
                revision_id=None,
                version=1,
                grade=grade,
                required_approvals=2 if grade == "important" else 1,
                submitted_by_id=owner,
                reviewer_id=reviewer if status != "submitted" else None,
                review_started_at=started if status != "submitted" else None,
                compliance_checklist=ALL_TICKED["compliance_checklist"] if on_exchange else {},
                quality_checklist=ALL_TICKED["quality_checklist"] if on_exchange else {},
                first_approver_id=operator.pk if on_exchange and grade == "important" else None,
                first_approved_at=(listed_at - dt.timedelta(hours=2))
                if listed_at is not None and grade == "important"
                else None,
                verdict="approved" if on_exchange else "pending",
                decided_by_id=decider if on_exchange else None,
                decided_at=listed_at if on_exchange else None,
                comments="材料齐全，审核通过。" if on_exchange else "",
                created_at=submitted,
                updated_at=listed_at or started,
            )
        if status not in ("draft", "submitted"):
            story.append(("submitted", "in_review", reviewer, "review started", started))
        if listed_at is not None:
            story.append(("in_review", "listed", decider, "材料齐全，审核通过。", listed_at))
            listing_order.append((listed_at, product_id, len(built) - 1))
            snapshot = {
                k: content[k]
                for k in (
                    "title",
                    "title_en",
                    "summary",
                    "summary_en",
                    "manual_data_source",
                    "manual_content",
                    "manual_coverage",
                    "manual_update_frequency",
                    "manual_quality",
                    "manual_usage_restrictions",
                    "source_kind",
                    "grade",
                    "delivery_mode",
                    "volume_bytes",
                    "sample",
                    "tags",
                )
            }
            snapshot.update(
                coverage_start=content["coverage_start"].isoformat(),
                coverage_end=None,
                industry=industry,
                board="weather" if spec["board"] else None,
            )
            versions.add(
                id=context.ids(ProductVersion, 1)[0],
                product_id=product_id,
                number=1,
                content=snapshot,
                plans=[{"id": i, **v} for i, v in plan_rows],
                review_id=review_id,
                listed_at=listed_at,
            )
        if status == "suspended":
            story.append(
                (
                    "listed",
                    "suspended",
                    operator.pk,
                    "买方投诉数据与说明书不符，暂停核查",
                    last_change,
                )
            )
        elif status == "delisted":
            story.append(("listed", "delisted", operator.pk, "依数商申请下架", last_change))
        for from_status, to_status, actor, reason, at in story:
            events.add(
                id=context.ids(ProductEvent, 1)[0],
                subject_id=product_id,
                actor_id=actor,
                from_status=from_status,
                to_status=to_status,
                reason=reason,
                created_at=at,
            )
        if status == "listed":
            sellable.append(
                {
                    "product": product_id,
                    "seller": provider,
                    "listed_at": listed_at,
                    "mode": mode,
                    "board": spec["board"],
                    "grant": spec["grant"] if public else None,
                    "scenario": spec["scenarios"][0] if public else None,
                    "plans": plan_rows,
                    "title": content["title"],
                    "grade": grade,
                    "source_kind": content["source_kind"],
                    "usage_terms": content["manual_usage_restrictions"],
                }
            )
        progress.advance()
    progress.finish()

    # 登记号 in listing order, one serial sequence per year, as the counter issues them.
    serials: dict[int, int] = {}
    numbers = {}
    for at, product_id, _i in sorted(listing_order):
        year = at.astimezone(context.local(context.today).tzinfo).year
        serials[year] = serials.get(year, 0) + 1
        numbers[product_id] = format_registration_number(year, serials[year])
    registration_column = Product._meta.get_field("registration_number").attname
    position = [f.attname for f in products.fields].index(registration_column)
    id_position = [f.attname for f in products.fields].index("id")
    products.rows = [
        (*row[:position], numbers.get(row[id_position]), *row[position + 1 :])
        for row in products.rows
    ]
    for item in sellable:
        item["registration_number"] = numbers[item["product"]]
    products.write(context, "products: rows")
    plans.write(context)
    _write_links(context, links)
    reviews.write(context)
    versions.write(context)
    events.write(context, "products: events")
    for year, serial in serials.items():
        RegistrationCounter.objects.update_or_create(year=year, defaults={"last_serial": serial})
    context.finish_ids()
    # What the order contracts read of a grant, loaded now: read in the orders' loop, it
    # would wait there for the indexes rebuilt in the background meanwhile (BulkLoad).
    for item in sellable:
        if item["grant"] is not None:
            item["grant"].department, item["grant"].industry
    context.made["sellable"] = sellable
    weather = sum(1 for s in specs if s["board"] and s["status"] == "listed")
    context.write(
        f"  products: {len(specs)} made, {listed} listed ({weather} on the weather "
        f"board, {public_count} on public data)"
    )


def _write_links(context: DemoContext, links: Table) -> None:
    """The product-scenario links, with ids taken after any already there."""
    through = links.model
    first = context.ids(through, len(links.rows))
    links.rows = [(first[i], *row[1:]) for i, row in enumerate(links.rows)]
    links.write(context)

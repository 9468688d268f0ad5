"""Demo departments and their data catalogs, the report's grants and scenarios.

The catalogs hold the report's 4,096 provincial and 24,836 city-level entries
(by scale), named and described the way Hunan's government data catalogs are.
Grants follow 一行业一部门一授权 for the four departments the report names
(public security, natural resources, market regulation, weather) plus the
city departments behind Changsha's 16 scenarios and Yueyang's financial port;
scenarios follow 一场景一评估一授权. Those few go through the services.
"""

import datetime as dt

from accounts.choices import Region
from core.demo import REPORT, DemoContext, Table, scaled
from products.models import Industry
from products.services import industry_save
from publicdata import services
from publicdata.models import CatalogEntry, Department, Grant, Scenario

# The tables this seeder writes in bulk: their indexes and foreign keys are built
# after the load (core.demo.BulkLoad).
BULK_MODELS = (CatalogEntry,)

# The industries of the exchange, with their EU data theme for the exported catalog.
INDUSTRIES = [
    ("weather", "气象", "Weather", "ENVI"),
    ("transport", "交通运输", "Transport", "TRAN"),
    ("healthcare", "医疗健康", "Healthcare", "HEAL"),
    ("finance", "金融", "Finance", "ECON"),
    ("natural-resources", "自然资源", "Natural resources", "ENVI"),
    ("culture", "文化旅游", "Culture and tourism", "EDUC"),
    ("agriculture", "现代农业", "Modern agriculture", "AGRI"),
    ("energy", "电力能源", "Power and energy", "ENER"),
    ("manufacturing", "工业制造", "Industrial manufacturing", "ECON"),
    ("commerce", "商贸流通", "Commerce and retail", "ECON"),
    ("public-security", "公共安全", "Public security", "JUST"),
    ("technology", "数据技术服务", "Data technology services", "TECH"),
]

# Department kinds: code, provincial name, city name (after the city), weight of
# entries, [(resource, fields, grade, update frequency)].
KINDS = [
    (
        "GA",
        "湖南省公安厅",
        "公安局",
        1.4,
        [
            (
                "机动车登记信息",
                "号牌号码, 号牌种类, 车辆类型, 使用性质, 初次登记日期",
                "important",
                "每日",
            ),
            ("驾驶证基本信息", "准驾车型, 初领日期, 有效期止, 状态", "important", "每日"),
            ("道路交通事故统计", "事故地点, 发生时间, 事故形态, 伤亡人数", "general", "每月"),
            ("交通卡口过车流量", "卡口编号, 统计时段, 车型, 过车数量", "general", "每小时"),
            ("户籍人口统计", "行政区划, 统计年度, 户数, 人口数", "general", "每年"),
            ("居住证办理统计", "办理机构, 办理月份, 办理数量", "general", "每月"),
            ("停车场备案信息", "停车场名称, 地址, 泊位数, 经营单位", "general", "每月"),
        ],
    ),
    (
        "ZRZY",
        "湖南省自然资源厅",
        "自然资源和规划局",
        1.2,
        [
            ("国土空间规划用地", "图斑编号, 用地分类, 面积, 规划期限", "general", "每年"),
            ("不动产登记统计", "行政区划, 登记类型, 登记数量, 统计月份", "general", "每月"),
            ("土地供应信息", "宗地编号, 供应方式, 土地用途, 面积, 成交价格", "general", "每月"),
            ("建设用地审批信息", "批准文号, 用地单位, 面积, 批准日期", "general", "每月"),
            ("地质灾害隐患点", "隐患点编号, 位置, 灾害类型, 威胁人数", "important", "每季度"),
            ("实景三维地理数据", "图幅号, 生产日期, 分辨率, 覆盖范围", "general", "每年"),
            ("矿业权登记信息", "许可证号, 矿种, 矿区面积, 有效期", "general", "每季度"),
        ],
    ),
    (
        "SCJG",
        "湖南省市场监督管理局",
        "市场监督管理局",
        1.5,
        [
            (
                "企业登记基本信息",
                "统一社会信用代码, 企业名称, 法定代表人, 注册资本, 成立日期",
                "general",
                "每日",
            ),
            (
                "个体工商户登记信息",
                "统一社会信用代码, 字号名称, 经营者, 经营场所",
                "general",
                "每日",
            ),
            (
                "行政处罚信息",
                "处罚决定书文号, 当事人, 违法行为类型, 处罚内容, 处罚日期",
                "general",
                "每日",
            ),
            ("食品经营许可信息", "许可证编号, 经营者名称, 经营项目, 有效期至", "general", "每日"),
            (
                "企业年度报告信息",
                "统一社会信用代码, 报告年度, 从业人数, 资产状况",
                "general",
                "每年",
            ),
            (
                "经营异常名录",
                "统一社会信用代码, 列入原因, 列入日期, 作出决定机关",
                "general",
                "每日",
            ),
            ("特种设备使用登记", "设备代码, 设备类别, 使用单位, 登记日期", "general", "每月"),
        ],
    ),
    (
        "QX",
        "湖南省气象局",
        "气象局",
        1.3,
        [
            (
                "地面气象观测逐小时数据",
                "站号, 观测时间, 气温, 降水量, 风向, 风速, 相对湿度",
                "general",
                "每小时",
            ),
            ("区域自动站观测数据", "站号, 观测时间, 气温, 降水量", "general", "每5分钟"),
            ("精细化格点预报", "格点编号, 起报时间, 预报时效, 要素值", "general", "每日"),
            ("气象灾害预警信号", "预警类型, 预警级别, 发布区域, 发布时间", "general", "实时"),
            ("雷达回波拼图", "时次, 组合反射率, 覆盖范围", "general", "每6分钟"),
            ("农业气象旬报", "区域, 旬次, 积温, 降水距平, 农事建议", "general", "每旬"),
            ("气候年景评估", "年度, 平均气温, 降水总量, 极端事件", "general", "每年"),
        ],
    ),
    (
        "WJW",
        "湖南省卫生健康委员会",
        "卫生健康委员会",
        1.2,
        [
            (
                "医疗机构执业登记信息",
                "机构名称, 登记号, 机构类别, 床位数, 诊疗科目",
                "general",
                "每月",
            ),
            (
                "门急诊服务量统计",
                "机构名称, 科室, 统计日期, 门诊人次, 急诊人次",
                "important",
                "每日",
            ),
            ("医师执业注册信息", "执业证书编码, 执业类别, 执业范围, 执业机构", "important", "每月"),
            ("出生医学证明签发统计", "签发机构, 签发月份, 签发数量", "general", "每月"),
            (
                "基层医疗卫生机构服务统计",
                "机构名称, 服务项目, 统计月份, 服务人次",
                "general",
                "每月",
            ),
            ("传染病报告统计", "病种, 行政区划, 统计周, 报告病例数", "important", "每周"),
        ],
    ),
    (
        "JTYS",
        "湖南省交通运输厅",
        "交通运输局",
        1.1,
        [
            ("公路路网基础信息", "路线编号, 路段名称, 技术等级, 里程", "general", "每季度"),
            ("道路运输经营许可", "许可证号, 经营者, 经营范围, 有效期", "general", "每日"),
            ("公交线路与站点", "线路名称, 站点名称, 经纬度, 首末班时间", "general", "每月"),
            ("网约车平台运营统计", "平台名称, 统计月份, 订单量, 车辆数", "general", "每月"),
            ("港口货物吞吐量", "港口名称, 统计月份, 货物吞吐量, 集装箱吞吐量", "general", "每月"),
            ("高速公路收费站流量", "收费站, 统计时段, 出入口, 车流量", "general", "每小时"),
        ],
    ),
    (
        "RSHB",
        "湖南省人力资源和社会保障厅",
        "人力资源和社会保障局",
        1.0,
        [
            (
                "社会保险参保登记",
                "单位名称, 统一社会信用代码, 参保险种, 参保人数",
                "important",
                "每月",
            ),
            ("就业登记统计", "行政区划, 统计月份, 新增就业人数", "general", "每月"),
            ("职业技能等级证书", "证书编号, 职业名称, 等级, 发证日期", "general", "每月"),
            ("人力资源服务机构名录", "机构名称, 许可证号, 服务范围", "general", "每季度"),
        ],
    ),
    (
        "ZJ",
        "湖南省住房和城乡建设厅",
        "住房和城乡建设局",
        0.9,
        [
            ("建筑业企业资质信息", "企业名称, 资质类别, 资质等级, 有效期", "general", "每月"),
            ("商品房预售许可", "许可证号, 项目名称, 预售面积, 发证日期", "general", "每日"),
            ("住房公积金缴存统计", "统计月份, 缴存单位数, 缴存人数, 缴存额", "general", "每月"),
            ("城镇老旧小区改造项目", "项目名称, 所在区县, 改造户数, 开工日期", "general", "每季度"),
        ],
    ),
    (
        "NYNC",
        "湖南省农业农村厅",
        "农业农村局",
        0.9,
        [
            ("农作物种植面积统计", "行政区划, 作物, 年度, 播种面积", "general", "每年"),
            ("农产品质量安全检测", "样品名称, 检测项目, 检测结果, 抽检日期", "general", "每月"),
            ("新型农业经营主体名录", "主体名称, 类型, 经营规模, 所在乡镇", "general", "每季度"),
            ("畜禽养殖场备案", "养殖场名称, 畜种, 存栏量, 备案日期", "general", "每月"),
        ],
    ),
    (
        "STHJ",
        "湖南省生态环境厅",
        "生态环境局",
        0.9,
        [
            ("空气质量自动监测", "站点名称, 监测时间, PM2.5, PM10, 臭氧, AQI", "general", "每小时"),
            ("地表水水质监测", "断面名称, 监测月份, 水质类别, 主要污染指标", "general", "每月"),
            ("排污许可证信息", "许可证编号, 单位名称, 行业类别, 有效期", "general", "每月"),
            ("建设项目环评审批", "项目名称, 建设单位, 审批文号, 审批日期", "general", "每月"),
        ],
    ),
    (
        "WHLY",
        "湖南省文化和旅游厅",
        "文化旅游广电局",
        0.8,
        [
            ("A级旅游景区名录", "景区名称, 等级, 地址, 开放时间", "general", "每季度"),
            ("景区客流统计", "景区名称, 统计日期, 接待人次", "general", "每日"),
            ("旅行社名录", "旅行社名称, 许可证号, 经营范围", "general", "每月"),
            ("文物保护单位名录", "名称, 级别, 年代, 所在地", "general", "每年"),
        ],
    ),
    (
        "SL",
        "湖南省水利厅",
        "水利局",
        0.8,
        [
            ("水文站实时水情", "站名, 时间, 水位, 流量", "general", "每小时"),
            ("水库基本信息", "水库名称, 总库容, 坝型, 管理单位", "important", "每年"),
            ("取水许可信息", "许可证号, 取水单位, 取水量, 有效期", "general", "每月"),
        ],
    ),
    (
        "JY",
        "湖南省教育厅",
        "教育局",
        0.8,
        [
            ("学校基本信息", "学校名称, 办学类型, 在校生数, 地址", "general", "每学期"),
            ("义务教育入学统计", "行政区划, 学年, 招生人数", "general", "每年"),
            ("民办学校办学许可", "许可证号, 学校名称, 举办者, 有效期", "general", "每年"),
        ],
    ),
    (
        "MZ",
        "湖南省民政厅",
        "民政局",
        0.7,
        [
            ("社会组织登记信息", "统一社会信用代码, 名称, 类型, 登记日期", "general", "每月"),
            ("养老机构名录", "机构名称, 床位数, 地址, 运营方式", "general", "每季度"),
            ("婚姻登记统计", "登记机关, 统计月份, 结婚登记数, 离婚登记数", "general", "每月"),
        ],
    ),
    (
        "GXT",
        "湖南省工业和信息化厅",
        "工业和信息化局",
        0.8,
        [
            ("规模以上工业企业名录", "企业名称, 行业代码, 所在园区, 从业人数", "general", "每年"),
            ("专精特新企业名录", "企业名称, 认定年度, 主导产品", "general", "每年"),
            ("工业用电量统计", "行业, 统计月份, 用电量", "general", "每月"),
        ],
    ),
    (
        "SW",
        "湖南省商务厅",
        "商务局",
        0.7,
        [
            ("外贸进出口统计", "贸易方式, 统计月份, 进口额, 出口额", "general", "每月"),
            ("商贸流通企业名录", "企业名称, 经营业态, 营业面积", "general", "每季度"),
            ("成品油零售经营许可", "许可证号, 经营单位, 地址, 有效期", "general", "每月"),
        ],
    ),
]
# Variants a catalog lists for one resource (by district, by year, an interface).
VARIANTS = [
    "",
    "（区县汇总）",
    "（按月汇总）",
    "（年度统计）",
    "（明细）",
    "（接口服务）",
    "（历史归档）",
    "（空间分布）",
    "（按行业分类）",
    "（按乡镇街道）",
    "（变更记录）",
    "（年度报表）",
    "（核验服务）",
    "（季度汇总）",
    "（共享版）",
    "（开放版）",
]

CITY_NAMES = {
    Region.CHANGSHA: "长沙市",
    Region.ZHUZHOU: "株洲市",
    Region.XIANGTAN: "湘潭市",
    Region.HENGYANG: "衡阳市",
    Region.SHAOYANG: "邵阳市",
    Region.YUEYANG: "岳阳市",
    Region.CHANGDE: "常德市",
    Region.ZHANGJIAJIE: "张家界市",
    Region.YIYANG: "益阳市",
    Region.CHENZHOU: "郴州市",
    Region.YONGZHOU: "永州市",
    Region.HUAIHUA: "怀化市",
    Region.LOUDI: "娄底市",
    Region.XIANGXI: "湘西土家族苗族自治州",
}
# The report names the cities that pushed data sharing hardest.
CITY_WEIGHTS = {
    Region.CHANGSHA: 1.6,
    Region.HENGYANG: 1.3,
    Region.YONGZHOU: 1.2,
    Region.CHANGDE: 1.2,
    Region.YIYANG: 1.2,
    Region.HUAIHUA: 1.2,
    Region.LOUDI: 1.2,
}

ASSESSOR = "湖南省数据安全评估中心"
RISK = "仅输出加工结果，原始数据不出域；个人信息经去标识化处理，数据可用不可见。"

# (key, department code, industry, grantee role, fee ceiling fen, share bps, reason)
GRANTS = [
    (
        "public_security",
        "HN-GA",
        "transport",
        "digital_hunan",
        2_000_000_00,
        1500,
        "省公安厅公共数据授权运营协议（交通运输行业）",
    ),
    (
        "natural_resources",
        "HN-ZRZY",
        "natural-resources",
        "data_group",
        3_000_000_00,
        1000,
        "省自然资源厅公共数据授权运营协议",
    ),
    (
        "market_regulation",
        "HN-SCJG",
        "finance",
        "data_group",
        2_000_000_00,
        1200,
        "省市场监管局公共数据授权运营协议（金融行业）",
    ),
    ("weather", "HN-QX", "weather", "weather", 1_000_000_00, 1500, "省气象局气象数据授权运营协议"),
    (
        "changsha_health",
        "430100-WJW",
        "healthcare",
        "changsha_health",
        1_500_000_00,
        2000,
        "长沙市卫生健康委员会公共数据授权运营协议",
    ),
    (
        "yueyang_finance",
        "430600-SCJG",
        "finance",
        "yueyang",
        2_000_000_00,
        1200,
        "岳阳市金融港公共数据授权运营协议",
    ),
]
# Changsha's 16 scenarios (healthcare, static traffic, site selection, digital finance, ...)
# grant key -> [(name, purpose, description)]
SCENARIOS = {
    "changsha_health": [
        ("长沙智慧医疗：门诊资源预测", "industry", "按医院科室预测门诊量，辅助排班与号源配置。"),
        ("长沙智慧医疗：商业健康险快速理赔", "industry", "核验就诊结果，缩短理赔周期。"),
        ("长沙智慧医疗：慢病随访提醒", "public_interest", "提醒居民按时复诊，免费服务。"),
        ("长沙智慧医疗：区域卫生资源规划", "industry", "评估区域床位与医师配置缺口。"),
    ],
    "public_security": [
        ("长沙静态交通：停车诱导服务", "industry", "依据停车场实时余位提供诱导。"),
        ("长沙静态交通：错峰共享停车", "industry", "匹配单位泊位与周边居民夜间停车需求。"),
        ("长沙静态交通：路内泊位周转分析", "industry", "分析路内泊位周转率，优化收费时段。"),
        ("长沙智慧交通：网约车运力调度", "industry", "按区域热度调度运力。"),
    ],
    "natural_resources": [
        ("长沙智慧选址：商业网点选址评估", "industry", "结合用地规划与人口分布评分候选网点。"),
        ("长沙智慧选址：充电站布局优化", "industry", "依据用地与车流优化充电站布点。"),
        (
            "长沙智慧选址：社区养老设施选址",
            "public_interest",
            "为社区养老设施选址提供依据，免费服务。",
        ),
        ("长沙不动产：抵押登记线上核验", "industry", "为银行提供不动产登记状态核验结果。"),
    ],
    "market_regulation": [
        (
            "长沙数字金融：小微企业信用评估",
            "industry",
            "以登记、年报与处罚信息经隐私计算生成信用评分。",
        ),
        ("长沙数字金融：供应链金融风险监测", "industry", "监测核心企业上下游经营异常。"),
        ("长沙数字金融：普惠贷款贷前核验", "industry", "核验企业登记与经营状态。"),
        ("长沙数字金融：企业经营异常预警", "industry", "对经营异常名录变化发出预警。"),
    ],
    "yueyang_finance": [
        ("岳阳金融港：企业融资信用服务", "industry", "以岳阳市企业公共数据支撑金融港融资对接。"),
    ],
    "weather": [
        ("气象指数农业保险定价", "industry", "以降水与气温指数为农作物保险定价。"),
        ("电网气象风险预警服务", "industry", "为电网调度提供覆冰与大风风险预警。"),
    ],
}


def _departments(context: DemoContext) -> list[tuple]:
    """(code, name, level, region, kind index) of every department."""
    rows = [
        (f"HN-{code}", name, "province", "430100", k)
        for k, (code, name, *_rest) in enumerate(KINDS)
    ]
    for region, city in CITY_NAMES.items():
        for k, (code, _name, city_name, *_rest) in enumerate(KINDS):
            rows.append((f"{region}-{code}", f"{city}{city_name}", "city", region, k))
    return rows


def _spread(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, in whole numbers that add up."""
    whole = sum(weights)
    counts = [int(total * w / whole) for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i])[: total - sum(counts)]:
        counts[i] += 1
    return counts


def seed(context: DemoContext) -> None:
    rng = context.rng_for("publicdata")
    operator = context.made["operator"]
    # Industries belong to products; grants need them first, so they are made here.
    for code, name, name_en, theme in INDUSTRIES:
        industry_save(actor=operator, code=code, name=name, name_en=name_en, data_theme=theme)
    context.made["industries"] = dict(Industry.objects.values_list("code", "id"))

    rows = _departments(context)
    department_ids = context.ids(Department, len(rows))
    departments = Table(Department)
    for department_id, (code, name, level, region, _k) in zip(department_ids, rows, strict=True):
        departments.add(id=department_id, code=code, name=name, level=level, region=region)
    departments.write(context)
    by_code = {
        row[0]: department_id for department_id, row in zip(department_ids, rows, strict=True)
    }

    provincial = scaled(REPORT["provincial_entries"], context.scale)
    city_level = scaled(REPORT["city_entries"], context.scale)
    province_rows = [(i, r) for i, r in enumerate(rows) if r[2] == "province"]
    city_rows = [(i, r) for i, r in enumerate(rows) if r[2] == "city"]
    province_counts = _spread(provincial, [KINDS[r[4]][3] for _i, r in province_rows])
    city_counts = _spread(
        city_level, [KINDS[r[4]][3] * CITY_WEIGHTS.get(r[3], 1.0) for _i, r in city_rows]
    )
    plan = list(zip(province_rows, province_counts, strict=True))
    plan += zip(city_rows, city_counts, strict=True)
    entries = Table(CatalogEntry)
    entry_ids = iter(context.ids(CatalogEntry, provincial + city_level))
    progress = context.stage("data catalog entries", provincial + city_level)
    for (index, (code, name, _level, _region, k)), count in plan:
        resources = KINDS[k][4]
        combos = [(r, v) for v in VARIANTS for r in resources]
        for serial in range(count):
            # Past the distinct names, a catalog lists the same resource per year.
            (resource, fields, grade, frequency), variant = combos[serial % len(combos)]
            year = "" if serial < len(combos) else f"（{2024 - serial // len(combos) + 1}年）"
            entries.add(
                id=next(entry_ids),
                department_id=department_ids[index],
                code=f"{code}-{serial + 1:05d}",
                name=f"{name}{resource}{variant}{year}"[:200],
                fields=fields,
                grade=grade if rng.random() < 0.9 else "general",
                update_frequency=frequency,
            )
            progress.advance()
    progress.finish()
    entries.write(context)
    context.finish_ids()
    context.made["departments"] = by_code
    _grants(context, by_code, operator)


def _grants(context: DemoContext, by_code: dict, operator) -> None:
    from django.utils import timezone

    from accounts.models import Merchant

    today = context.today
    # Agreements signed before the history starts; in force for years to come.
    signed = context.local(today - dt.timedelta(days=30 * 20), 10 * 3600)
    until = context.local(today + dt.timedelta(days=3 * 365))
    named = context.made["named_merchants"]
    industries = {i.code: i for i in Industry.objects.all()}
    grants: dict[str, Grant] = {}
    scenarios: dict[str, list[Scenario]] = {}
    number = 0
    for key, dept_code, industry, role, ceiling, share, reason in GRANTS:
        department = Department.objects.get(pk=by_code[dept_code])
        covered = list(department.entries.order_by("id")[:8])
        grant = services.grant_create(
            actor=operator,
            department=department,
            industry=industries[industry],
            grantee=Merchant.objects.get(pk=named[role]),
            valid_from=signed,
            valid_until=until,
            revenue_share_bps=share,
            fee_ceiling_fen=ceiling,
            entries=covered,
            reason=reason,
        )
        grant = services.grant_activate(actor=operator, grant=grant, reason="协议生效")
        grants[key] = grant
        for name, purpose, description in SCENARIOS[key]:
            number += 1
            scenario = services.scenario_create(
                actor=operator, grant=grant, name=name, purpose=purpose, description=description
            )
            services.scenario_assess(
                actor=operator,
                scenario=scenario,
                assessor=ASSESSOR,
                assessed_on=(signed + dt.timedelta(days=10)).date(),
                risk_findings=RISK,
                verdict="pass",
            )
            scenario = services.scenario_authorize(
                actor=operator,
                scenario=scenario,
                document_number=f"湘数授〔{signed.year}〕{number:03d}号",
                valid_from=signed + dt.timedelta(days=15),
                valid_until=until,
            )
            scenarios.setdefault(key, []).append(scenario)
    # One proposal failed its assessment: it stays on record, never authorized.
    failed = services.scenario_create(
        actor=operator,
        grant=grants["public_security"],
        name="长沙静态交通：个人车辆轨迹画像",
        purpose="industry",
        description="拟输出个人车辆轨迹。",
    )
    services.scenario_assess(
        actor=operator,
        scenario=failed,
        assessor=ASSESSOR,
        assessed_on=(signed + dt.timedelta(days=12)).date(),
        risk_findings="轨迹数据可识别到个人，原始数据将出域，不予通过。",
        verdict="fail",
    )
    # The history is older than this run: date the records of the agreements as signed.
    stamp = signed + dt.timedelta(days=15)
    Grant.objects.filter(pk__in=[g.pk for g in grants.values()]).update(
        created_at=signed, updated_at=stamp
    )
    Scenario.objects.filter(grant__in=grants.values()).update(created_at=signed, updated_at=stamp)
    for model in (Grant, Scenario):
        model.events.rel.related_model._default_manager.filter(
            created_at__gte=timezone.now() - dt.timedelta(hours=1)
        ).update(created_at=stamp)
    context.made["grants"] = grants
    context.made["scenarios"] = scenarios
    context.made["scenarios_since"] = stamp
    authorized = sum(len(s) for s in scenarios.values())
    context.write(f"  grants: {len(grants)} active; scenarios: {authorized} authorized, 1 failed")

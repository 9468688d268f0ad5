"""Demo merchants: the report's 433 数商 over Hunan's 14 cities, with their people.

Names, contacts, banks and credit codes look like Hunan's data industry:
a credit code's administrative division lies in the merchant's city, its
organisation code (GB 11714, with its own check digit) is unique, so the
audit's self-dealing check sees no two merchants as one party.
"""

import datetime as dt
import itertools

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

from accounts.choices import MerchantRole, MerchantStatus, Region
from accounts.credit_code import ALPHABET, check_character
from accounts.models import Merchant, MerchantEvent, User
from accounts.services import person_create
from core.demo import (
    DEMO_MERCHANT_OWNER,
    DEMO_OPERATOR,
    DEMO_SECOND_OPERATOR,
    REPORT,
    DemoContext,
    Table,
    scaled,
)

# The tables this seeder writes in bulk: their indexes and foreign keys are built
# after the load (core.demo.BulkLoad).
BULK_MODELS = (Merchant, MerchantEvent, User)

# city -> (share of merchants, district division codes, landline area code, short name)
CITIES = {
    Region.CHANGSHA: (
        0.52,
        ["430102", "430103", "430104", "430105", "430111", "430112", "430121", "430181", "430182"],
        "0731",
        "长沙",
    ),
    Region.ZHUZHOU: (0.07, ["430202", "430203", "430204", "430211", "430212"], "0731", "株洲"),
    Region.XIANGTAN: (0.06, ["430302", "430304", "430381", "430382"], "0731", "湘潭"),
    Region.HENGYANG: (0.05, ["430405", "430406", "430407", "430408"], "0734", "衡阳"),
    Region.SHAOYANG: (0.03, ["430502", "430503", "430511"], "0739", "邵阳"),
    Region.YUEYANG: (0.05, ["430602", "430603", "430611", "430681"], "0730", "岳阳"),
    Region.CHANGDE: (0.04, ["430702", "430703", "430781"], "0736", "常德"),
    Region.ZHANGJIAJIE: (0.02, ["430802", "430811"], "0744", "张家界"),
    Region.YIYANG: (0.03, ["430902", "430903", "430981"], "0737", "益阳"),
    Region.CHENZHOU: (0.04, ["431002", "431003", "431081"], "0735", "郴州"),
    Region.YONGZHOU: (0.025, ["431102", "431103"], "0746", "永州"),
    Region.HUAIHUA: (0.025, ["431202", "431281"], "0745", "怀化"),
    Region.LOUDI: (0.025, ["431302", "431381", "431382"], "0738", "娄底"),
    Region.XIANGXI: (0.015, ["433101", "433130"], "0743", "湘西"),
}

# Brand words (汉字, pinyin for the e-mail domain).
BRANDS = [
    ("麓山", "lushan"),
    ("湘江", "xiangjiang"),
    ("芙蓉", "furong"),
    ("橘洲", "juzhou"),
    ("星城", "xingcheng"),
    ("洞庭", "dongting"),
    ("衡岳", "hengyue"),
    ("潇湘", "xiaoxiang"),
    ("云麓", "yunlu"),
    ("天心", "tianxin"),
    ("智远", "zhiyuan"),
    ("博安", "boan"),
    ("恒信", "hengxin"),
    ("瑞达", "ruida"),
    ("鼎晟", "dingsheng"),
    ("万维", "wanwei"),
    ("数通", "shutong"),
    ("华智", "huazhi"),
    ("楚天", "chutian"),
    ("长河", "changhe"),
    ("金阳", "jinyang"),
    ("远景", "yuanjing"),
    ("启明", "qiming"),
    ("睿图", "ruitu"),
    ("云帆", "yunfan"),
    ("联创", "lianchuang"),
    ("中湘", "zhongxiang"),
    ("新源", "xinyuan"),
    ("慧眼", "huiyan"),
    ("锦程", "jincheng"),
    ("凌云", "lingyun"),
    ("拓界", "tuojie"),
    ("卓越", "zhuoyue"),
    ("同方", "tongfang"),
    ("创新", "chuangxin"),
    ("数聚", "shuju"),
    ("盈科", "yingke"),
    ("和光", "heguang"),
    ("立信", "lixin"),
    ("宏图", "hongtu"),
    ("岳麓", "yuelu"),
    ("浏河", "liuhe"),
    ("雁城", "yancheng"),
    ("资江", "zijiang"),
    ("沅澧", "yuanli"),
    ("武陵", "wuling"),
    ("舜德", "shunde"),
    ("炎陵", "yanling"),
    ("梅山", "meishan"),
    ("南岭", "nanling"),
    ("紫鹊", "zique"),
    ("崀山", "langshan"),
]

# industry -> (business words, kinds the merchant tends to be, share of merchants)
INDUSTRY_WORDS = {
    "weather": (["气象科技", "气象信息服务", "天气数据"], "supplier", 0.06),
    "transport": (["交通数据", "智慧交通", "物流信息"], "supplier", 0.11),
    "healthcare": (["医疗信息", "健康数据", "智慧医疗"], "application", 0.09),
    "finance": (["金融科技", "征信服务", "金融数据"], "application", 0.12),
    "natural-resources": (["地理信息", "测绘科技", "空间信息"], "supplier", 0.08),
    "culture": (["文化传媒", "文旅数据", "数字文化"], "application", 0.06),
    "agriculture": (["农业科技", "智慧农业", "农业数据"], "supplier", 0.06),
    "energy": (["能源数据", "电力信息", "新能源科技"], "supplier", 0.06),
    "manufacturing": (["工业互联网", "智能制造", "工业数据"], "technical", 0.09),
    "commerce": (["商业数据", "零售科技", "电商数据"], "application", 0.07),
    "technology": (
        ["大数据", "数据科技", "信息技术", "软件", "数据安全", "隐私计算"],
        "technical",
        0.20,
    ),
}
SUFFIXES = ["有限公司"] * 8 + ["股份有限公司", "有限责任公司"]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚"
    "邵万严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰辉鹏飞宇浩然思远晨曦子涵欣怡嘉琪志文博婷颖"
)
STREETS = [
    "麓谷大道",
    "岳麓大道",
    "芙蓉中路",
    "五一大道",
    "人民东路",
    "湘江中路",
    "金星北路",
    "韶山南路",
    "长沙大道",
    "建设路",
    "解放路",
    "迎宾路",
    "高新路",
    "科技园路",
]
MOBILE_PREFIXES = [
    "133",
    "135",
    "136",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "158",
    "159",
    "173",
    "177",
    "180",
    "186",
    "187",
    "188",
    "189",
    "191",
    "199",
]

# bank, branch names, account number: (prefix, total length)
BANKS = [
    ("中国工商银行", ["长沙分行营业部", "长沙五一路支行", "湘江新区支行"], ("1901", 19), 0.17),
    ("中国建设银行", ["湖南省分行营业部", "长沙芙蓉支行", "长沙岳麓支行"], ("4305", 20), 0.17),
    ("中国银行", ["湖南省分行", "长沙开福支行"], ("5902", 12), 0.10),
    ("中国农业银行", ["长沙星沙支行", "湖南省分行营业部"], ("1805", 18), 0.10),
    ("交通银行", ["湖南省分行", "长沙东塘支行"], ("4311", 21), 0.08),
    ("长沙银行", ["营业部", "岳麓支行", "高新支行", "星沙支行"], ("8000", 16), 0.16),
    ("湖南银行", ["营业部", "长沙分行"], ("8101", 17), 0.08),
    ("招商银行", ["长沙分行", "长沙麓谷支行"], ("7319", 15), 0.06),
    ("兴业银行", ["长沙分行"], ("3680", 18), 0.04),
    ("中信银行", ["长沙分行"], ("8111", 19), 0.04),
]

# Merchants the report names or the public-data demo needs, placed first:
# (legal name, region, industry, kinds, e-mail domain)
NAMED = [
    (
        "湖南数据产业集团有限公司",
        Region.CHANGSHA,
        "technology",
        ["supplier", "technical", "service"],
        "hndig.com.cn",
    ),
    ("数字湖南有限公司", Region.CHANGSHA, "technology", ["technical", "service"], "szhn.com.cn"),
    (
        "湖南湘云气象科技有限公司",
        Region.CHANGSHA,
        "weather",
        ["supplier", "service"],
        "xiangyunqx.cn",
    ),
    (
        "长沙星城智慧医疗数据有限公司",
        Region.CHANGSHA,
        "healthcare",
        ["application", "service"],
        "xcyiliao.cn",
    ),
    (
        "岳阳金融港数据科技有限公司",
        Region.YUEYANG,
        "finance",
        ["application", "service"],
        "yyjrg.cn",
    ),
]
# Named merchants by role, for the other seeders.
ROLE_INDEX = {"data_group": 0, "digital_hunan": 1, "weather": 2, "changsha_health": 3, "yueyang": 4}


def _gb11714_check(body: str) -> str:
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    values = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body]
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def organisation_code(rng) -> str:
    """A GB 11714 organisation code: newer Hunan registrations start MA4, older are digits."""
    if rng.random() < 0.75:
        body = "MA4" + "".join(
            rng.choice(ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(5)
        )
    else:
        body = f"{rng.randrange(10**7, 10**8)}"
    return body + _gb11714_check(body)


def credit_code(division: str, org_code: str) -> str:
    body = "91" + division + org_code
    return body + check_character(body)


def person_name(rng) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _account_number(rng, prefix: str, length: int) -> str:
    return prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix)))


def _weighted(rng, table: dict):
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


def seed(context: DemoContext) -> None:
    rng = context.rng_for("accounts")
    operator = person_create(
        username=DEMO_OPERATOR[0],
        password=DEMO_OPERATOR[1],
        is_operator=True,
        email="operator@exchange.example",
        first_name="运营",
        last_name="陈",
    )
    second = person_create(
        username=DEMO_SECOND_OPERATOR[0],
        password=DEMO_SECOND_OPERATOR[1],
        is_operator=True,
        email="operator2@exchange.example",
        first_name="审核",
        last_name="李",
    )
    context.made["operator"] = operator
    context.made["second_operator"] = second

    active = scaled(REPORT["merchants"], context.scale, minimum=len(NAMED) + 3)
    applied = max(1, round(active * 0.015))
    total = active + applied
    ids = context.ids(Merchant, total)
    merchants = Table(Merchant)
    events = Table(MerchantEvent)
    people = Table(User)
    event_ids = iter(context.ids(MerchantEvent, total + active))
    person_ids = context.ids(User, total)
    names, org_codes, accounts = set(), set(), set()
    region_shares = {region: share for region, (share, *_rest) in CITIES.items()}
    industry_shares = {code: share for code, (_w, _k, share) in INDUSTRY_WORDS.items()}
    banks = {i: b[3] for i, b in enumerate(BANKS)}
    regions = list(CITIES)
    info = []  # (id, region, industry, kinds, status, approved at)
    legal_names: dict[int, str] = {}
    codes: dict[int, str] = {}
    progress = context.stage("merchants", total)
    # The history starts 18 months back; merchants joined from then on, a few earlier.
    first_day = context.today - dt.timedelta(days=30 * 19)
    for n, merchant_id in enumerate(ids):
        if n < len(NAMED):
            legal_name, region, industry, kinds, domain = NAMED[n]
        else:
            # every city has merchants even at small scales
            if n - len(NAMED) < len(regions):
                region = regions[n - len(NAMED)]
            else:
                region = _weighted(rng, region_shares)
            industry = _weighted(rng, industry_shares)
            words, main_kind, _share = INDUSTRY_WORDS[industry]
            city = CITIES[region][3]
            for attempt in itertools.count():
                brand, pinyin = rng.choice(BRANDS)
                if attempt >= 20:
                    # At 100 times the report's scale the single brand words run out
                    # for the busiest city and industry (a name is unique): brands of
                    # two words' characters, the way many firms are named, give room.
                    other, _pinyin = rng.choice(BRANDS)
                    brand = brand[0] + other[1]
                prefix = rng.choice([city, city, "湖南", "湖南" + city[:0]])
                legal_name = f"{prefix}{brand}{rng.choice(words)}{rng.choice(SUFFIXES)}"
                if legal_name not in names:
                    break
            chosen = {main_kind}
            for kind, chance in (
                ("supplier", 0.35),
                ("technical", 0.2),
                ("application", 0.2),
                ("service", 0.25),
            ):
                if rng.random() < chance:
                    chosen.add(kind)
            kinds = sorted(chosen)
            domain = f"{pinyin}{n}.com.cn"
        names.add(legal_name)
        _share, districts, area_code, _short = CITIES[region]
        while True:
            org = organisation_code(rng)
            if org not in org_codes:
                org_codes.add(org)
                break
        bank_name, branches, (prefix, length), _w = BANKS[_weighted(rng, banks)]
        while True:
            number = _account_number(rng, prefix, length)
            if number not in accounts:
                accounts.add(number)
                break
        contact = person_name(rng)
        phone = (
            f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
            if rng.random() < 0.6
            else f"{area_code}-{rng.randrange(2, 9)}{rng.randrange(10**6, 10**7)}"
        )
        status = MerchantStatus.ACTIVE if n < active else MerchantStatus.APPLIED
        if n < len(NAMED):
            joined = context.local(first_day - dt.timedelta(days=60), 9 * 3600 + n * 600)
        elif status == MerchantStatus.APPLIED:
            joined = context.local(
                context.today - dt.timedelta(days=rng.randrange(1, 6)),
                rng.randrange(9 * 3600, 17 * 3600),
            )
        else:
            # more merchants joined as the exchange grew
            offset = int((1 - rng.random() ** 0.7) * 560)
            joined = context.local(
                first_day + dt.timedelta(days=offset), rng.randrange(9 * 3600, 17 * 3600)
            )
        approved = joined + dt.timedelta(days=rng.randrange(1, 5), hours=rng.randrange(1, 6))
        code = credit_code(rng.choice(districts), org)
        legal_names[merchant_id], codes[merchant_id] = legal_name, code
        merchants.add(
            id=merchant_id,
            legal_name=legal_name,
            credit_code=code,
            is_supplier="supplier" in kinds,
            is_technical="technical" in kinds,
            is_application="application" in kinds,
            is_service="service" in kinds,
            region=region,
            address=(
                f"湖南省{'湘西土家族苗族自治州' if _short == '湘西' else _short + '市'}"
                f"{rng.choice(STREETS)}{rng.randrange(1, 900)}号"
            ),
            contact_name=contact,
            contact_phone=phone,
            contact_email=f"contact@{domain}",
            bank_name=f"{bank_name}{rng.choice(branches)}",
            bank_account_name=legal_name,
            bank_account_number=number,
            status=status,
            created_at=joined,
            updated_at=approved if status == MerchantStatus.ACTIVE else joined,
        )
        events.add(
            id=next(event_ids),
            subject_id=merchant_id,
            actor_id=operator.pk,
            from_status="",
            to_status=MerchantStatus.APPLIED,
            reason="application received",
            created_at=joined,
        )
        if status == MerchantStatus.ACTIVE:
            events.add(
                id=next(event_ids),
                subject_id=merchant_id,
                actor_id=operator.pk,
                from_status=MerchantStatus.APPLIED,
                to_status=MerchantStatus.ACTIVE,
                reason="营业执照、法人身份与结算账户核验通过",
                created_at=approved,
            )
        # One owner per merchant, who places and accepts its orders in the history.
        # No usable password: hashing one per merchant would slow the seed down.
        people.add(
            id=person_ids[n],
            password=UNUSABLE_PASSWORD_PREFIX + f"{rng.getrandbits(160):040x}",
            is_superuser=False,
            username=f"owner-{merchant_id}",
            first_name=contact[1:],
            last_name=contact[:1],
            email=f"owner@{domain}",
            is_staff=True,
            is_active=True,
            date_joined=joined,
            is_operator=False,
            merchant_id=merchant_id,
            merchant_role=MerchantRole.OWNER,
        )
        info.append((merchant_id, region, industry, kinds, status, approved))
        progress.advance()
    progress.finish()
    merchants.write(context)
    events.write(context)
    people.write(context)
    context.made["merchants"] = info
    # Legal names and credit codes by id, for the contracts (without reading them back).
    context.made["merchant_names"] = legal_names
    context.made["merchant_codes"] = codes
    context.made["merchant_person"] = {m[0]: person_ids[i] for i, m in enumerate(info)}
    context.made["named_merchants"] = {role: ids[i] for role, i in ROLE_INDEX.items()}
    context.finish_ids()
    # The demo merchant login belongs to the data group, a busy seller and buyer.
    person_create(
        username=DEMO_MERCHANT_OWNER[0],
        password=DEMO_MERCHANT_OWNER[1],
        merchant=Merchant.objects.get(pk=ids[0]),
        role=MerchantRole.STAFF,
        email="staff@hndig.com.cn",
        first_name="晓",
        last_name="周",
    )
    context.write(f"  merchants: {active} active, {applied} applying; people: {total + 3}")

"""Word lists for demo data: Chinese names, positions, places, project kinds. All fictional:
names are drawn from common surnames and given-name characters, phone numbers start with 100
(no Chinese mobile number does), and the companies are the invented 瀚川建设集团."""

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉鹏宇浩凯鑫林斌波健俊峰海红玲燕晨欣"
    "婷雪亮成志永春兵东新振宏晓云龙飞瑞蕾立德玉庆兰金荣生学光胜利小丹佳怡思源博远航嘉颖倩琳"
)
# Two-part Tibetan names (扎西 + 多吉 ...), for members recruited near the plateau sites.
TIBETAN_PARTS = (
    "扎西",
    "次仁",
    "达瓦",
    "格桑",
    "平措",
    "多吉",
    "索朗",
    "旦增",
    "尼玛",
    "央金",
    "卓玛",
    "拉姆",
    "边巴",
    "顿珠",
)

POSITIONS = {
    "office": (
        "党群工作部干事",
        "综合办公室主任",
        "综合办公室文秘",
        "人力资源部专员",
        "财务部会计",
        "工程管理部工程师",
        "安全质量部部长",
        "纪检监察专员",
        "经营开发部经理",
        "物资设备部专员",
    ),
    "front_line": (
        "项目经理",
        "项目书记",
        "总工程师",
        "技术员",
        "安全员",
        "施工员",
        "质检员",
        "测量员",
        "材料员",
        "试验员",
        "机械工程师",
        "电气工程师",
    ),
    "remote": (
        "项目负责人",
        "技术员",
        "安全员",
        "施工员",
        "测量员",
        "驾驶员",
        "电工",
        "机械操作手",
        "材料员",
        "后勤管理员",
    ),
}

# (province, place, short name used in project names, altitude in metres)
PLACES = (
    ("西藏", "那曲市色尼区", "那曲", 4500),
    ("西藏", "阿里地区噶尔县", "狮泉河", 4300),
    ("西藏", "日喀则市定日县", "定日", 4300),
    ("西藏", "林芝市巴宜区", "林芝", 2900),
    ("西藏", "拉萨市堆龙德庆区", "堆龙", 3650),
    ("青海", "海西州格尔木市", "格尔木", 2800),
    ("青海", "玉树州称多县", "称多", 4200),
    ("青海", "果洛州玛多县", "玛多", 4300),
    ("青海", "海西州德令哈市", "德令哈", 2980),
    ("四川", "甘孜州康定市", "康定", 2560),
    ("四川", "阿坝州马尔康市", "马尔康", 2600),
    ("四川", "凉山州西昌市", "西昌", 1500),
    ("四川", "成都市双流区", "双流", 500),
    ("云南", "迪庆州香格里拉市", "香格里拉", 3300),
    ("云南", "怒江州贡山县", "贡山", 1500),
    ("云南", "楚雄州禄丰市", "禄丰", 1600),
    ("云南", "昆明市呈贡区", "呈贡", 1900),
    ("新疆", "和田地区于田县", "于田", 1400),
    ("新疆", "巴音郭楞州若羌县", "若羌", 900),
    ("新疆", "喀什地区塔什库尔干县", "塔县", 3100),
    ("新疆", "阿勒泰地区富蕴县", "富蕴", 800),
    ("甘肃", "甘南州玛曲县", "玛曲", 3400),
    ("甘肃", "酒泉市瓜州县", "瓜州", 1200),
    ("内蒙古", "阿拉善盟额济纳旗", "额济纳", 1000),
    ("贵州", "毕节市威宁县", "威宁", 2200),
    ("湖北", "武汉市江夏区", "江夏", 30),
    ("广东", "深圳市宝安区", "宝安", 10),
    ("江苏", "南京市江宁区", "江宁", 20),
)
# Regions whose small scattered sites a joint branch gathers: (region, province).
JOINT_REGIONS = (
    ("藏北", "西藏"),
    ("青南", "青海"),
    ("南疆", "新疆"),
    ("川西", "四川"),
    ("滇西北", "云南"),
)

PROJECT_KINDS = (
    "高速公路",
    "铁路隧道",
    "水电站",
    "光伏电站",
    "输变电工程",
    "市政道路",
    "综合管廊",
    "特大桥",
    "机场改扩建",
    "水利枢纽",
    "物流园区",
    "城市轨道",
    "风电场",
    "供水工程",
)
SMALL_PROJECT_KINDS = (
    "通信基站",
    "输电线路",
    "公路养护",
    "光伏电站",
    "物流园区",
    "供水工程",
    "气象站",
)
WORK_AREAS = ("隧道工区", "桥梁工区", "路基工区", "机电安装工区", "拌合站", "钢筋加工场")

_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (一, 十, 十二, 二十, 九十九); larger numbers in digits."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return f"{head}十{_CN_DIGITS[ones] if ones else ''}"


def person_name(rng: random.Random, *, tibetan: bool = False) -> str:
    if tibetan:
        first, second = rng.sample(TIBETAN_PARTS, 2)
        return first + second
    given = rng.choice(GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice(GIVEN_CHARS)
    return rng.choice(SURNAMES) + given


def fake_phone(rng: random.Random) -> str:
    """An 11-digit number starting with 100: shaped like a mobile number, never a real one."""
    return f"100{rng.randrange(10**8):08d}"


def coverage_for(rng: random.Random, altitude: int) -> str:
    if altitude >= 4000:
        return rng.choices(("none", "weak", "good"), (5, 4, 1))[0]
    if altitude >= 2500:
        return rng.choices(("none", "weak", "good"), (1, 4, 5))[0]
    return rng.choices(("weak", "good"), (1, 6))[0]

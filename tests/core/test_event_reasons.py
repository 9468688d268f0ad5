from django.utils import translation

from core.event_reasons import reason_text


def test_the_services_reasons_read_in_chinese_and_typed_ones_as_typed():
    # given reasons as the services write them, when read in Chinese
    with translation.override("zh-hans"):
        # then fixed ones are translated, data inside patterned ones is kept
        assert reason_text("placed") == "已下单"
        assert reason_text("dispute opened: 数据缺失") == "发起争议：数据缺失"
        assert reason_text("dispute resolved (refund): 卖方未交付") == (
            "争议已裁决（退款给买方）：卖方未交付"
        )
        assert reason_text("partial refund of 10.00: 少交付一个月") == (
            "部分退款 10.00 元：少交付一个月"
        )
        assert reason_text("营业执照模糊") == "营业执照模糊"
        assert reason_text("") == ""
    with translation.override("en"):
        assert reason_text("dispute opened: late") == "dispute opened: late"

"""Thanh Hóa's administrative units, current and former."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db


class Unit(db.Model):
    """A commune-level unit (xã or phường) in force since 1 July 2025."""

    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)  # official code
    name: Mapped[str] = mapped_column(String(80))  # "Hoằng Hóa", without the prefix
    kind: Mapped[str] = mapped_column(String(20))  # "Xã" or "Phường"
    name_folded: Mapped[str] = mapped_column(String(80), index=True)

    @property
    def full_name(self) -> str:
        return f"{self.kind} {self.name}"


class FormerDistrict(db.Model):
    """A district-level unit abolished on 1 July 2025."""

    __tablename__ = "former_district"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # "Huyện", "Thị xã", "Thành phố"
    name_folded: Mapped[str] = mapped_column(String(80), index=True)

    communes: Mapped[list["FormerCommune"]] = relationship(back_populates="district")

    @property
    def full_name(self) -> str:
        return f"{self.kind} {self.name}"


class FormerCommune(db.Model):
    """A commune-level unit as it was before 1 July 2025."""

    __tablename__ = "former_commune"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # "Xã", "Phường", "Thị trấn"
    name_folded: Mapped[str] = mapped_column(String(80), index=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("former_district.code"))
    #: true when the commune was divided between several current units
    is_split: Mapped[bool] = mapped_column(default=False)

    district: Mapped[FormerDistrict] = relationship(back_populates="communes")
    successors: Mapped[list["Succession"]] = relationship(
        back_populates="former", lazy="selectin"
    )

    @property
    def full_name(self) -> str:
        return f"{self.kind} {self.name}"


class Succession(db.Model):
    """A link from a former commune to a current unit that took (part of) it."""

    __tablename__ = "succession"

    former_code: Mapped[str] = mapped_column(
        ForeignKey("former_commune.code"), primary_key=True
    )
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"), primary_key=True)
    #: the unit that took the commune's seat or largest part, when split
    is_main: Mapped[bool] = mapped_column(default=True)

    former: Mapped[FormerCommune] = relationship(back_populates="successors")
    unit: Mapped[Unit] = relationship(lazy="joined")
